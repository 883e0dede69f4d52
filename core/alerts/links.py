"""Links an alert carries to the tools it came from (a Grafana panel, a runbook, the alert
rule), for the alert page. Pure.

Sources put them in ``metadata.links`` as ``[{"text", "href"}]``; an Alertmanager alert's
``generatorURL`` counts too. Only absolute http(s) URLs are links: metadata can come from
any sender (the generic webhook takes it as sent), and a ``javascript:`` or ``data:`` URL
must never become clickable."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

MAX_TEXT = 200
MAX_LINKS = 20


def is_web_url(value: object) -> bool:
    """An absolute http(s) URL with a host (and no spaces or control characters)."""
    if not isinstance(value, str) or len(value) > 4096:
        return False
    if any(c.isspace() or ord(c) < 32 for c in value):
        return False
    parts = urlsplit(value)
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def link(text: object, href: object) -> dict[str, str] | None:
    """``{"text", "href"}`` when ``href`` is a web URL, else None."""
    if not is_web_url(href):
        return None
    label = str(text).strip() if isinstance(text, str) and text.strip() else str(href)
    return {"text": label[:MAX_TEXT], "href": str(href)}


def web_links(metadata: Any) -> list[dict[str, str]]:
    """The alert's links, in the order the source gave them, web URLs only, no repeats."""
    if not isinstance(metadata, dict):
        return []
    found: list[dict[str, str] | None] = []
    listed = metadata.get("links")
    if isinstance(listed, list):
        found += [link(x.get("text"), x.get("href")) for x in listed if isinstance(x, dict)]
    am = metadata.get("alertmanager")
    if isinstance(am, dict):
        found.append(link("Alert rule (generator)", am.get("generatorURL")))
    out: list[dict[str, str]] = []
    for item in found:
        if item is not None and item["href"] not in {o["href"] for o in out}:
            out.append(item)
    return out[:MAX_LINKS]
