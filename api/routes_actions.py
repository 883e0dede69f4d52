"""``/a/<token>``: the page a signed action link opens (e-mail, SMS). GET only shows what
the link will do and a button (mail scanners fetch links; a GET must change nothing);
POST does it, once. No login: the link is the credential (core/notify/links.py,
core/respond/links.py). A small page for a phone, all text escaped."""
from __future__ import annotations

import html

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.retry import RetryingRoute
from core import db as core_db
from core.clock import SYSTEM_CLOCK
from core.notify.format import alert_link
from core.respond import links

router = APIRouter(route_class=RetryingRoute, tags=["two-way"])
STYLE = ("body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;"
         "font-size:1.15rem;line-height:1.5;color:#111;background:#fff}"
         "button{font-size:1.2rem;padding:.8rem 1.6rem;border-radius:.5rem;border:0;"
         "background:#1f6feb;color:#fff}.no{color:#8a1c1c}.ok{color:#14532d}"
         "@media (prefers-color-scheme:dark){body{background:#111;color:#eee}"
         ".no{color:#f6a6a6}.ok{color:#9be3b0}}")


def page(title: str, body: str, status: int) -> HTMLResponse:
    return HTMLResponse(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
        f'content="width=device-width,initial-scale=1"><meta name="robots" content="noindex">'
        f"<title>{html.escape(title)} · Alertdesk</title><style>{STYLE}</style></head>"
        f"<body><h1>Alertdesk</h1>{body}</body></html>", status_code=status,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


def _open(link: links.Link) -> str:
    """A way on to the alert's page (sign-in there as usual)."""
    if link.page is None or link.page.alert_id is None:
        return ""
    href = html.escape(alert_link(link.page.alert_id), quote=True)
    return f'<p><a href="{href}">Open alert #{link.page.alert_id} in Alertdesk</a></p>'


def _show(link: links.Link, form: bool) -> HTMLResponse:
    text = html.escape(link.message)
    if not link.ok:
        return page("Nothing done", f'<p class="no">{text}</p>{_open(link)}', link.status)
    summary = f"<p><q>{html.escape(link.summary)}</q></p>" if link.summary else ""
    if form:
        label = html.escape(link.action.capitalize())
        return page(link.message, f"<p>{text}</p>{summary}<form method=\"post\">"
                                  f"<button type=\"submit\">{label}</button></form>", 200)
    return page("Done", f'<p class="ok">{text}</p>{summary}{_open(link)}', 200)


@router.get("/a/{token}", response_class=HTMLResponse, include_in_schema=False)
def confirm(token: str) -> HTMLResponse:
    with core_db.transaction() as s:
        link = links.check(s, token, SYSTEM_CLOCK.now())
    return _show(link, form=True)


@router.post("/a/{token}", response_class=HTMLResponse, include_in_schema=False)
def perform(token: str) -> HTMLResponse:
    with core_db.transaction() as s:
        link = links.use(s, token, SYSTEM_CLOCK.now())
    return _show(link, form=False)
