"""Email over SMTP: a multipart/alternative message (text + HTML). ALERTDESK_SMTP_HOST,
_PORT, _STARTTLS (upgrade before AUTH), _USER/_PASSWORD (AUTH when a user is set), _FROM.

Retry rule: a refused recipient with a 5xx code is permanent (the address is wrong);
anything else (connection refused, timeouts, 4xx, AUTH refused, a dropped connection) is
retried: a mail server being down or misconfigured is the kind of thing that gets fixed."""
from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from core.notify import links
from core.notify.base import DeliveryError, Notification, NotifyConfig
from core.notify.format import email_parts


def build_message(n: Notification, config: NotifyConfig) -> EmailMessage:
    actions = links.for_page(n.id, n.target, n.payload, config.env.get("ALERTDESK_PUBLIC_URL"))
    subject, text, html = email_parts(n.payload, n.bundled, actions)
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = config.smtp_from
    msg["To"] = str(n.target.get("to", n.recipient))
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(idstring=f"alertdesk-{n.id}", domain="alertdesk")
    msg["X-Alertdesk-Notification"] = str(n.id)
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg


def send(n: Notification, config: NotifyConfig) -> str:
    """Send one email; the provider id is its Message-ID."""
    msg = build_message(n, config)
    try:
        with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=config.timeout_s) as smtp:
            if config.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if config.smtp_user:
                smtp.login(config.smtp_user, config.smtp_password or "")
            smtp.send_message(msg)
    except smtplib.SMTPRecipientsRefused as err:
        codes = [code for code, _ in err.recipients.values()]
        raise DeliveryError(f"SMTP refused the recipient ({codes})",
                            retryable=any(code < 500 for code in codes)) from None
    except smtplib.SMTPResponseException as err:
        raise DeliveryError(f"SMTP {err.smtp_code}: {_text(err.smtp_error)}") from None
    except (OSError, smtplib.SMTPException) as err:
        raise DeliveryError(f"SMTP {type(err).__name__}: {err}") from None
    return str(msg["Message-ID"])


def _text(value: bytes | str) -> str:
    return (value.decode(errors="replace") if isinstance(value, bytes) else value)[:200]
