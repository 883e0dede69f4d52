"""Domain errors. The API maps them to HTTP statuses, the UI to visible messages."""
from __future__ import annotations


class AlertdeskError(Exception):
    """Base class; ``str(err)`` is a message fit for an operator."""


class FieldError(AlertdeskError):
    """Bad input: names the field so the caller can point at it (HTTP 422)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class NotFound(AlertdeskError):
    """HTTP 404."""


class UnknownName(NotFound):
    """A filter names something that does not exist (an unknown team or service): HTTP 404
    naming the field, as an unknown id is refused, instead of an answer full of zeros."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class Conflict(AlertdeskError):
    """The request is valid but the current state refuses it (HTTP 409)."""


class InvalidTransition(Conflict):
    """``changed`` says who put the alert in that state and when ("resolved by olga 5s
    ago"): the usual reason is that someone else acted first."""

    def __init__(self, alert_id: int | None, state: str, action: str,
                 changed: str | None = None) -> None:
        what = f"alert {alert_id}" if alert_id is not None else "the alert"
        verb = ACTION_VERBS.get(action, action)
        super().__init__(f"{what} is {state}; it cannot be {verb}"
                         + (f" ({changed})" if changed else ""))
        self.alert_id = alert_id
        self.state = state
        self.action = action


class Unavailable(AlertdeskError):
    """The database cannot be reached or failed to answer (HTTP 503)."""


class AuthError(AlertdeskError):
    """Missing or wrong credentials (HTTP 401)."""


class Forbidden(AlertdeskError):
    """Authenticated but the role is too low (HTTP 403)."""


class Throttled(AlertdeskError):
    """Too many failed sign-ins: refused unchecked until ``retry_after`` seconds have passed
    (HTTP 429 with Retry-After)."""

    def __init__(self, retry_after: int) -> None:
        wait = f"{retry_after} s" if retry_after < 120 else f"{-(-retry_after // 60)} min"
        super().__init__(f"too many failed sign-ins; try again in {wait}")
        self.retry_after = retry_after


ACTION_VERBS = {
    "acknowledge": "acknowledged",
    "investigate": "investigated",
    "resolve": "resolved",
    "close": "closed",
    "reopen": "reopened",
    "silence": "silenced",
    "unsilence": "unsilenced",
    "unacknowledge": "unacknowledged",
}
