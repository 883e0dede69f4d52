"""The fixed fleet the generator draws from: services, devices, sources, operators.

Everything here is deterministic (no randomness), so a seed alone reproduces a data set.
"""
from __future__ import annotations

import numpy as np

from core import severity as sev
from core.sla.rules import DEFAULT_TARGETS

SERVICES: tuple[str, ...] = (
    "payments", "checkout", "search", "auth", "billing", "catalog", "inventory", "shipping",
    "email", "sms", "dns", "cdn", "vpn", "core-net", "edge-net", "storage", "backup",
    "k8s-prod", "k8s-stage", "kafka", "postgres", "redis", "elastic", "ldap", "sso",
    "monitoring", "logging", "wifi-campus", "dc1-power", "dc2-power", "dc1-cooling",
    "firewall", "load-balancer", "api-gateway", "mobile-app", "web-frontend", "reporting",
    "etl", "ml-scoring", "voip",
)
DEVICES_PER_SERVICE = 10
KINDS = ("srv", "srv", "db", "sw", "rtr", "fw", "lb", "srv", "vm", "vm")
DEVICES: tuple[str, ...] = tuple(
    f"{svc}-{KINDS[j]}{j:02d}" for svc in SERVICES for j in range(DEVICES_PER_SERVICE))
DEVICE_SERVICE = np.repeat(np.arange(len(SERVICES)), DEVICES_PER_SERVICE)
# A Zipf-like skew: a few noisy devices, a long quiet tail (fixed, seed-independent order).
_rank = (np.arange(len(DEVICES)) * 7919) % len(DEVICES)
DEVICE_WEIGHTS = 1.0 / (1.0 + _rank) ** 0.7
DEVICE_WEIGHTS /= DEVICE_WEIGHTS.sum()

ALERTNAMES: tuple[str, ...] = (
    "HighCPU", "DiskAlmostFull", "InterfaceDown", "PacketLoss", "BGPSessionDown",
    "MemoryPressure", "ServiceUnavailable", "HighLatency", "CertificateExpiring",
    "TemperatureHigh", "ErrorRateHigh", "ReplicationLag", "PodCrashLooping", "QueueBacklog",
    "PowerSupplyFailed", "LinkFlapping",
)

SEVERITIES: tuple[str, ...] = sev.SEVERITIES
SEVERITY_P = np.array([0.03, 0.10, 0.32, 0.30, 0.25])    # skewed to medium / low / info
TTA_TARGET_S = np.array([DEFAULT_TARGETS[s][0] for s in SEVERITIES], dtype=np.int64)
TTR_TARGET_S = np.array([DEFAULT_TARGETS[s][1] for s in SEVERITIES], dtype=np.int64)
TTA_MEDIAN_RATIO = np.array([0.45, 0.35, 0.30, 0.25, 0.15])  # median TTA / TTA target

# Alert source -> (share, actor name of its events, event source of its events)
SOURCES: tuple[str, ...] = ("alertmanager", "grafana", "zabbix", "api")
SOURCE_P = np.array([0.55, 0.15, 0.15, 0.15])
SOURCE_ACTOR: tuple[str, ...] = ("alertmanager", "webhook:grafana", "webhook:zabbix",
                                 "key:ingest")
SOURCE_EVENT: tuple[str, ...] = ("alertmanager", "webhook", "webhook", "api")

OPERATORS: tuple[str, ...] = tuple(f"oper{i:02d}" for i in range(1, 31))
HUMAN_SOURCES: tuple[str, ...] = ("ui", "ui", "ui", "ui", "api")

NULL = "\\N"  # NULL in PostgreSQL's COPY text format
