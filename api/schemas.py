"""Request bodies. Pydantic checks types (wrong types -> 422 naming the field); core checks
meaning (unknown severity, empty summary -> FieldError -> 422)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TokenRequest(Body):
    username: str
    password: str


class AlertBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    summary: str = Field(description="One line: what is wrong (required)")
    severity: str = Field(description="critical, high, medium, low, info (or page, error, "
                                      "major, warning, minor, none, L1-L3)")
    source: str | None = Field(None, description="Sending system; defaults to the API key name")
    service: str = ""
    device_id: str = ""
    description: str = ""
    fingerprint: str | None = Field(None, description="Dedup key; default: SHA-256 of "
                                    "source, service, device, alertname")
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    metadata: dict[str, Any] = {}


class ActionBody(Body):
    note: str | None = None
    metadata: dict[str, Any] | None = None
    assign_to: str | None = None
    until: datetime | None = Field(None, description="For silence: ISO-8601 with offset")
    resolution: str | None = Field(None, description="For resolve: fixed, false_positive, "
                                   "duplicate, wont_fix, expected, other")


class NoteBody(Body):
    note: str | None = None
    metadata: dict[str, Any] | None = None
    assign_to: str | None = None


class UserBody(Body):
    username: str
    password: str
    role: str = "viewer"
    display_name: str = ""
    email: str | None = None
    timezone: str = "UTC"


class UserPatchBody(Body):
    role: str | None = None
    is_active: bool | None = None
    password: str | None = None


class ApiKeyBody(Body):
    name: str
    role: str | None = Field(None, description="viewer, operator (the default), manager, admin; "
                                               "a wall or calendar key is always viewer")
    scope: str | None = Field(None, description="null: a normal API key; wall: a URL token "
                                                "for /?wall=<key> only; calendar: for the "
                                                ".ics feeds' ?token=<key> only")


class SlaPolicyBody(Body):
    severity: str
    service: str | None = None
    tta_s: int
    ttr_s: int
