"""Requests that providers make to Alertdesk: Twilio's status callbacks (delivery receipts)
today; the two-way actions (Slack buttons, SMS replies, voice keys, PagerDuty webhooks)
join here. No API key: each request is authenticated by its provider's signature, checked
with the provider's own code, over the URL the provider called (ALERTDESK_PUBLIC_URL +
path when set: behind a proxy our own view of the URL differs)."""
from __future__ import annotations

import json
import logging
import os
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape as xml_escape

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response
from slack_sdk.signature import SignatureVerifier
from starlette.concurrency import run_in_threadpool

from api.retry import RetryingRoute
from core import db as core_db
from core.clock import SYSTEM_CLOCK
from core.errors import FieldError, Forbidden
from core.notify import receipts
from core.notify.base import DeliveryError, NotifyConfig, post
from core.notify.twilio import signed_by_twilio
from core.respond import pagerduty, slack, sms

router = APIRouter(route_class=RetryingRoute, prefix="/api/v1/integrations", tags=["integrations"])
MAX_FIELDS = 200
log = logging.getLogger("alertdesk.api")


def called_url(request: Request) -> str:
    """The URL the provider called, as it signed it."""
    public = os.environ.get("ALERTDESK_PUBLIC_URL")
    if not public:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{public.rstrip('/')}{request.url.path}{query}"


async def form_of(request: Request) -> dict[str, str]:
    """An application/x-www-form-urlencoded body as a dict (Twilio's format)."""
    try:
        text = (await request.body()).decode("utf-8")
        return dict(parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS))
    except (UnicodeDecodeError, ValueError):
        raise FieldError("body", "must be a form-encoded body (UTF-8, at most "
                                 f"{MAX_FIELDS} fields)") from None


async def twilio_form(request: Request) -> dict[str, str]:
    """The form of a request Twilio signed; 403 if the signature is not Twilio's."""
    params = await form_of(request)
    config = NotifyConfig.from_env()
    if not config.twilio_token:
        raise Forbidden("cannot verify Twilio's signature: ALERTDESK_TWILIO_AUTH_TOKEN is not set")
    if not signed_by_twilio(config, called_url(request), params,
                            request.headers.get("x-twilio-signature")):
        raise Forbidden("X-Twilio-Signature does not match this request")
    return params


@router.post("/twilio/status", summary="Twilio status callback: an SMS delivered or not, a "
             "call answered or not (signed by Twilio)")
async def twilio_status(request: Request) -> dict[str, Any]:
    receipt = receipts.parse(await twilio_form(request))

    def record() -> int:
        with core_db.transaction() as s:
            return receipts.apply(s, receipt, SYSTEM_CLOCK.now())

    changed = await run_in_threadpool(record)
    return {"sid": receipt.sid, "status": receipt.status, "receipt": receipt.receipt,
            "updated": changed}


def twiml(verb: str, text: str | None) -> Response:
    """TwiML answering Twilio: a <Message> (SMS) or <Say> (call); nothing to say: empty."""
    body = f"<{verb}>{xml_escape(text)}</{verb}>" if text else ""
    return Response(f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>',
                    media_type="application/xml")


@router.post("/twilio/sms", summary="An SMS reply to a page: ACK / RES / ESC <alert id>, or a "
             "bare ACK for the last page (signed by Twilio; the sender is known by number)")
async def twilio_sms(request: Request) -> Response:
    form = await twilio_form(request)

    def answer() -> str | None:
        with core_db.transaction() as s:
            return sms.handle_text(s, form.get("From", ""), form.get("Body", ""),
                                   SYSTEM_CLOCK.now())

    return twiml("Message", await run_in_threadpool(answer))


@router.post("/twilio/voice", summary="The key pressed during a voice page (1: acknowledge; "
             "signed by Twilio)")
async def twilio_voice(request: Request, n: int = Query(..., ge=1, le=2**63 - 1,
                                                        description="the page's outbox id")
                       ) -> Response:
    form = await twilio_form(request)

    def answer() -> str:
        with core_db.transaction() as s:
            return sms.handle_key(s, n, form.get("Digits", ""), SYSTEM_CLOCK.now())

    return twiml("Say", await run_in_threadpool(answer))


def slack_signed(body: bytes, request: Request) -> None:
    """Slack's v0 signature over timestamp and raw body with the signing secret; requests
    more than 5 minutes old are refused (slack_sdk's SignatureVerifier does both)."""
    secret = os.environ.get("ALERTDESK_SLACK_SIGNING_SECRET")
    if not secret:
        raise Forbidden("cannot verify Slack's signature: ALERTDESK_SLACK_SIGNING_SECRET is not set")
    if not SignatureVerifier(secret).is_valid(
            body, request.headers.get("x-slack-request-timestamp", ""),
            request.headers.get("x-slack-signature", "")):
        raise Forbidden("X-Slack-Signature does not match this request, or it is older than "
                        "5 minutes")


def tell_slack(url: str, body: dict[str, Any]) -> None:
    """Answer through the interaction's response_url (after the 200: Slack wants that in 3 s)."""
    if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        return
    try:
        post(url, NotifyConfig.from_env(), what="Slack response_url", json=body)
    except DeliveryError as err:
        log.warning("Slack response_url: %s", err)


@router.post("/slack/actions", summary="A click on a page's Slack button (signed by Slack): "
             "acknowledge / resolve / escalate as the Alertdesk user linked to the clicker")
async def slack_actions(request: Request, background: BackgroundTasks) -> dict[str, Any]:
    body = await request.body()
    slack_signed(body, request)
    click = slack.parse(await form_of(request))

    def work() -> slack.Outcome:
        with core_db.transaction() as s:
            return slack.handle(s, click, SYSTEM_CLOCK.now())

    outcome = await run_in_threadpool(work)
    reply = outcome.replace or {"response_type": "ephemeral", "replace_original": False,
                                "text": outcome.text}
    background.add_task(tell_slack, click.response_url, reply)
    return {"ok": outcome.done, "text": outcome.text}


@router.post("/pagerduty/webhook", status_code=202, summary="PagerDuty V3 webhook (signed): "
             "an incident Alertdesk opened was acknowledged or resolved in PagerDuty")
async def pagerduty_webhook(request: Request) -> dict[str, Any]:
    body = await request.body()
    secrets = [x.strip() for x in os.environ.get("ALERTDESK_PAGERDUTY_WEBHOOK_SECRET", "").split(",")]
    if not any(secrets):
        raise Forbidden("cannot verify PagerDuty's signature: ALERTDESK_PAGERDUTY_WEBHOOK_SECRET "
                        "is not set")
    if not pagerduty.signed(secrets, body, request.headers.get("x-pagerduty-signature")):
        raise Forbidden("X-PagerDuty-Signature does not match this request")
    try:
        event = pagerduty.parse(json.loads(body))
    except (ValueError, RecursionError):
        raise FieldError("body", "must be JSON") from None

    def work() -> str:
        with core_db.transaction() as s:
            return pagerduty.handle(s, event, SYSTEM_CLOCK.now())

    return {"event": event.id, "result": await run_in_threadpool(work)}
