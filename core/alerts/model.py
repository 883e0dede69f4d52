"""An alert as it comes in (``AlertIn``), pure: validated and normalised at the boundary,
with its dedup key.

Deduplication itself is the database's (core/ingest/batch.py): the unique partial index
``alerts_open_fingerprint`` makes ``INSERT .. ON CONFLICT`` bump the open alert instead of
creating a second one, which stays correct under any number of concurrent posts.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import orjson

from core import severity as sev
from core.errors import FieldError

MAX_SUMMARY = 1000
MAX_TEXT = 20_000


@dataclass(frozen=True)
class AlertIn:
    summary: str
    severity: str
    source: str = "api"
    service: str = ""
    device_id: str = ""
    description: str = ""
    fingerprint: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    def normalize(self, keyed: bool = False, batch: bool = False) -> AlertIn:
        """A clean copy, or FieldError naming the first bad field. ``keyed``: with the
        dedup key as its fingerprint (what ingest stores and reads back). ``batch``: the
        content of labels, annotations and metadata is checked by the caller for the
        whole batch at once (``bad_content``), only their types here."""
        summary = _text(self.summary, "summary", MAX_SUMMARY, required=True)
        severity = sev.normalize(self.severity)
        source = _text(self.source, "source", 100, required=True)
        service = _text(self.service, "service", 200)
        device_id = _text(self.device_id, "device_id", 200)
        description = _text(self.description, "description", MAX_TEXT)
        fingerprint = _text(self.fingerprint, "fingerprint", 200) or None
        labels = _str_map(self.labels, "labels", deep=not batch)
        annotations = _str_map(self.annotations, "annotations", deep=not batch)
        metadata = _json_map(self.metadata, "metadata", deep=not batch)
        if keyed and not fingerprint:
            fingerprint = _hash_key(source, service, device_id, labels, summary)
        return AlertIn(summary, severity, source, service, device_id, description, fingerprint,
                       labels, annotations, metadata)

    def dedup_key(self) -> str:
        """The source's fingerprint, else SHA-256 of the identifying fields."""
        if self.fingerprint:
            return self.fingerprint
        return _hash_key(self.source, self.service, self.device_id, self.labels, self.summary)


def _hash_key(source: str, service: str, device_id: str, labels: dict[str, str],
              summary: str) -> str:
    event = labels.get("alertname") or labels.get("event") or summary
    device = device_id or labels.get("instance", "")
    ident = json.dumps([source, service, device, event], ensure_ascii=False)
    return hashlib.sha256(ident.encode()).hexdigest()


def _storable(value: str, name: str) -> None:
    """PostgreSQL text and jsonb hold neither NUL characters nor lone UTF-16 surrogates
    (which JSON input can carry as ``\\u0000`` / ``\\ud800``): refuse them by name."""
    if "\x00" in value:
        raise FieldError(name, "must not contain NUL characters")
    if value.isascii():
        return
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise FieldError(name, "must be valid Unicode text (a lone surrogate was sent)") from None


def _text(value: object, name: str, limit: int, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise FieldError(name, "must be a string")
    _storable(value, name)
    value = value.strip()
    if required and not value:
        raise FieldError(name, "is required")
    if len(value) > limit:
        raise FieldError(name, f"is longer than {limit} characters")
    return value


def _str_map(value: object, name: str, deep: bool = True) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise FieldError(name, "must be an object of string values")
    out: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, (str, int, float, bool)):
            raise FieldError(f"{name}.{key}", "must be a string")
        if deep:
            _storable(key + str(item), f"{name}.{key}")
        out[key] = str(item)
    return out


MAX_DEPTH = 32   # JSON nesting of metadata: far past real use, well inside every encoder


def check_text(value: str | None, name: str) -> None:
    """FieldError(name) for text PostgreSQL cannot store (NUL, a lone surrogate)."""
    if value is not None:
        _storable(value, name)


def check_json(value: dict[str, Any] | None, name: str) -> None:
    """FieldError(name) for a JSON object PostgreSQL or the API could not carry back: NUL,
    a lone surrogate, or nesting deeper than MAX_DEPTH (the response encoders give up at a
    few hundred levels, after the write)."""
    if value is not None:
        _json_map(value, name)


def _nesting(value: dict[str, Any] | list[Any], name: str) -> None:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise FieldError(name, f"is nested deeper than {MAX_DEPTH} levels")
        children = item.values() if isinstance(item, dict) else item
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))


def _json_map(value: object, name: str, deep: bool = True) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise FieldError(name, "must be an object")
    if value:
        _nesting(value, name)   # cheap (metadata is small) and needed on the batch path too
    if not deep:
        return value
    text = json.dumps(value, ensure_ascii=False)
    if "\\u0000" in text:
        raise FieldError(name, "must not contain NUL characters")
    _storable(text, name)
    return value


def dump_json(value: Any) -> str:
    """JSON text for a statement parameter: orjson (the ingest rows of a batch are its
    largest Python cost after parsing), the standard library for what orjson refuses
    (integers beyond 64 bits, lone surrogates: the latter are refused before this)."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False)


def bad_content(alerts: list[AlertIn]) -> tuple[int, FieldError] | None:
    """The first alert whose labels, annotations or metadata PostgreSQL would refuse (NUL,
    a lone surrogate), as (its index, the error naming the field), checked in one encode
    for the whole batch; the per-field checks only run when the batch is suspect."""
    try:
        text = orjson.dumps([(a.labels, a.annotations, a.metadata) for a in alerts])
        if b"\\u0000" not in text:
            return None
    except orjson.JSONEncodeError:
        pass  # a lone surrogate, or a number orjson cannot write: look closer
    for i, a in enumerate(alerts):
        try:
            _str_map(a.labels, "labels")
            _str_map(a.annotations, "annotations")
            _json_map(a.metadata, "metadata")
        except FieldError as err:
            return i, err
    return None
