"""The demo fleet as data: services, devices, alert types, incidents, the open queue plan.

``core.demo.seed`` turns this into rows; edit here to change what a demo shows.
"""
from __future__ import annotations

from itertools import accumulate
from typing import Any

SITES = ("fra", "ams", "lon", "iad", "sin")
USERS = (  # "username role time-zone display name"
    "noc-anna operator Europe/Berlin Anna Berg", "noc-jonas operator Europe/London Jonas Meyer",
    "noc-luis operator America/New_York Luis Ortega", "noc-ravi operator Asia/Kolkata Ravi Iyer",
    "noc-kate operator America/Los_Angeles Kate Lin", "noc-mei operator Asia/Singapore Mei Tan",
    "mgr-sofia manager Europe/Berlin Sofia Rossi", "viewer-dan viewer America/Chicago Dan Okafor")
SHIFTS = (("noc-ravi", "noc-mei"), ("noc-anna", "noc-jonas"), ("noc-luis", "noc-kate"))  # 8h UTC
WEIGHT = {"critical": 1, "high": 2, "medium": 5, "low": 6, "info": 4}  # how often each fires
KINDS = {  # "AlertName severity what it means"
    "app": ("HighLatency medium p99 latency above 800 ms", "HighErrorRate high 5xx rate above 2 %",
            "PodCrashLooping high pod restarting repeatedly", "LogVolumeSpike info log volume 5x",
            "CertExpiringSoon low TLS cert expires in 14 d", "ReplicasMismatch low pods missing"),
    "db": ("ReplicationLag medium replica lag above 30 s", "DiskFull high data volume above 90 %",
           "TooManyConnections medium connections above 85 %", "VacuumBehind info vacuum behind",
           "SlowQueries low slow query rate above baseline"),
    "net": ("InterfaceDown high interface down", "BGPSessionDown critical BGP session to peer down",
            "HighPacketLoss medium packet loss above 1 %", "InterfaceErrors low CRC errors rising",
            "FanFailure medium fan tray failed", "ConfigChanged info running config changed"),
    "queue": ("ConsumerLag medium consumer lag above 10k", "QueueDepthHigh low depth above 50k",
              "BrokerDown critical broker down", "UnderReplicated high partitions lack replicas"),
    "node": ("NodeHighCPU low CPU above 90 % for 15 min", "NodeDown critical host not reachable",
             "DiskFull high root filesystem above 90 %", "NTPDrift info clock drift above 100 ms",
             "MemoryPressure medium OOM kills seen", "SystemdUnitFailed low systemd unit failed")}
PORTS = {"app": 8080, "db": 9187, "net": 161, "queue": 9308, "node": 9100}
SERVICE_GROUPS = {  # (kind, team): "service/host-prefix/devices ..."
    ("app", "payments"): "payments-api/pay/4 billing-batch/bill/2 fraud-scoring/fraud/3",
    ("app", "commerce"): "checkout/chk/4 cart/cart/3 catalog/cat/3 search/srch/4",
    ("app", "identity"): "auth/auth/3 sso-gateway/sso/2", ("node", "identity"): "ldap/ldap/2",
    ("app", "web"): "web-frontend/web/6 mobile-bff/bff/3 notifications/ntf/3",
    ("net", "network"): "edge-lb/edge/6 core-router/rtr/4 access-switches/sw/6 firewall/fw/4",
    ("net", "edge"): "vpn/vpn/2 cdn/cdn/4", ("node", "network"): "dns/dns/4",
    ("db", "data"): "postgres-primary/db/4 postgres-replica/dbr/5 redis-cache/redis/4",
    ("db", "search"): "elasticsearch/es/5", ("queue", "data"): "kafka/kafka/6 rabbitmq/mq/3",
    ("node", "platform"): "k8s-nodes/k8s/8 object-storage/ceph/5 ci-runners/ci/4",
    ("node", "observability"): "monitoring/prom/3"}
INCIDENTS = (  # days ago, root service, root alertname, impacted services, minutes (>= 35) to fix
    (26.4, "postgres-primary", "DiskFull", ("payments-api", "billing-batch", "checkout"), 95,
     "WAL volume filled by a stuck replication slot; slot dropped, volume grown."),
    (19.7, "core-router", "BGPSessionDown", ("edge-lb", "cdn", "vpn"), 55,
     "Transit provider maintenance without notice; traffic moved to the second uplink."),
    (12.3, "kafka", "BrokerDown", ("notifications", "search", "fraud-scoring"), 70,
     "Broker lost its disk controller; partitions reassigned, hardware ticket opened."),
    (6.5, "auth", "HighErrorRate", ("checkout", "web-frontend", "mobile-bff", "sso-gateway"), 40,
     "Expired token-signing certificate; rotated and auth pods restarted."),
    (2.2, "dns", "NodeDown", ("web-frontend", "payments-api", "ci-runners"), 35,
     "Resolver pair rebooted by a bad kernel update; rolled back."))
SYMPTOMS = {"app": ("HighErrorRate", "HighLatency"), "net": ("HighPacketLoss",), "node":
            ("SystemdUnitFailed",), "db": ("TooManyConnections",), "queue": ("ConsumerLag",)}
RESPONSE = {  # P(source resolves before anyone acts), P(late response), P(late fix)
    "critical": (0.05, 0.06, 0.15), "high": (0.10, 0.08, 0.10), "medium": (0.20, 0.10, 0.08),
    "low": (0.30, 0.14, 0.08), "info": (0.45, 0.12, 0.05)}
NOTES = ("Restarted the service, watching error rates.", "Vendor ticket opened, waiting on RMA.",
         "Correlates with the 14:00 deploy; rollback started.", "Known issue, fix is in review.",
         "Cleared old logs, 40 % free again.", "Handed over to the owning team on Slack.")
OPEN_QUEUE = {  # state -> "severity:age", age as a share of the SLA target that is running
    "new": "critical:.5 high:.85 high:1.8 medium:.3 medium:.92 medium:1.3 low:.2 low:2.5 info:.4",
    "acknowledged": "critical:.6 high:.3 high:.9 medium:.5 medium:1.4 low:.85 info:.2",
    "investigating": "critical:1.5 high:.5 high:1.2 medium:.88 medium:.2 low:.6",
    "silenced": "high:.5 medium:.4 medium:1.1 low:.7 info:.3"}
OPEN_STEPS = {"new": (), "acknowledged": ("acknowledge",), "silenced": ("silence",),
              "investigating": ("acknowledge", "investigate"),
              "silenced+ack": ("acknowledge", "silence")}
Service = tuple[str, str, str, str, int]  # name, kind, team, host prefix, devices
SERVICES: list[Service] = [(name, kind, team, prefix, int(n))
                           for (kind, team), group in SERVICE_GROUPS.items()
                           for name, prefix, n in (item.split("/") for item in group.split())]
TYPES = {(k, t.split()[0]): tuple(t.split(" ", 2)) for k, ts in KINDS.items() for t in ts}
FLEET = [(x, f"{x[3]}-{SITES[i % 5]}-{i // 5 + 1:02d}") for x in SERVICES for i in range(x[4])]
CATALOG = [(svc, dev, t) for svc, dev in FLEET for (k, _), t in TYPES.items() if k == svc[1]]
CUM_WEIGHTS = list(accumulate(WEIGHT[c[2][1]] for c in CATALOG))
Event = tuple[Any, ...]  # one alert_events row in EVENT_COLS order
EVENT_COLS = ("at", "actor", "source", "kind", "from_state", "to_state", "note", "metadata")

# On-call: a follow-the-sun NOC (three 8-hour UTC windows, each with its own weekly rotation
# of the regional pair) and a database team's weekly primary with a business-hours layer.
def oncall_schedules(start: str) -> list[dict[str, Any]]:
    windows = (("apac", "00:00", "08:00", SHIFTS[0]), ("emea", "08:00", "16:00", SHIFTS[1]),
               ("americas", "16:00", "00:00", SHIFTS[2]))
    noc = {"name": "NOC follow-the-sun", "timezone": "UTC", "layers": [
        {"name": name, "rotation": "weekly", "handoff": "00:00", "start": start,
         "participants": list(crew),
         "restrictions": [{"days": [1, 2, 3, 4, 5, 6, 7], "from": frm, "to": to}]}
        for name, frm, to, crew in windows]}
    data = {"name": "Data platform", "timezone": "Europe/Berlin", "layers": [
        {"name": "weekly primary", "rotation": "weekly", "handoff": "09:00", "start": start,
         "participants": ["noc-jonas", "noc-anna", "noc-luis"]},
        {"name": "office hours", "rotation": "daily", "handoff": "09:00", "start": start,
         "participants": ["mgr-sofia"],
         "restrictions": [{"days": [1, 2, 3, 4, 5], "from": "09:00", "to": "17:00"}]}]}
    return [noc, data]
