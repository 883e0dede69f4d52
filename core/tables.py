"""SQLAlchemy Core views of the tables, for building typed statements.

The DDL (constraints, indexes, triggers) lives in the Alembic migrations; this file only
names the columns queries use. Generated columns are marked ``Computed`` so inserts skip them.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()
TS = sa.DateTime(timezone=True)

users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("username", sa.Text, nullable=False),
    sa.Column("display_name", sa.Text, nullable=False),
    sa.Column("email", sa.Text),
    sa.Column("phone", sa.Text),
    sa.Column("timezone", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("password_hash", sa.Text),
    sa.Column("is_active", sa.Boolean, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("tokens_valid_after", TS),
)

contact_methods = sa.Table(  # 0022; rules in core/people/rules.py
    "contact_methods", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("user_id", sa.BigInteger, nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("address", sa.Text, nullable=False),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("created_at", TS, nullable=False),
)

notification_rules = sa.Table(  # 0022
    "notification_rules", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("user_id", sa.BigInteger, nullable=False),
    sa.Column("urgency", sa.Text, nullable=False),
    sa.Column("contact_method_id", sa.BigInteger, nullable=False),
    sa.Column("delay_s", sa.Integer, nullable=False),
)

api_keys = sa.Table(
    "api_keys", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("key_prefix", sa.Text, nullable=False),
    sa.Column("key_hash", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("created_by", sa.Text),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("last_used_at", TS),
    sa.Column("revoked_at", TS),
    sa.Column("scope", sa.Text),   # 0029: 'wall', 'calendar' or null (a normal key)
)

sla_policies = sa.Table(
    "sla_policies", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("severity", sa.Text, nullable=False),
    sa.Column("service", sa.Text),
    sa.Column("tta_s", sa.Integer, nullable=False),
    sa.Column("ttr_s", sa.Integer, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("updated_by", sa.Text),
)

alerts = sa.Table(
    "alerts", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("fingerprint", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("service", sa.Text, nullable=False),
    sa.Column("device_id", sa.Text, nullable=False),
    sa.Column("severity", sa.Text, nullable=False),
    sa.Column("severity_rank", sa.SmallInteger, sa.Computed("severity_rank")),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("state_before_silence", sa.Text),
    sa.Column("silenced_until", TS),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("labels", JSONB, nullable=False),
    sa.Column("annotations", JSONB, nullable=False),
    sa.Column("metadata", JSONB, nullable=False),
    sa.Column("assignee", sa.Text),
    sa.Column("group_id", sa.BigInteger),
    sa.Column("duplicate_count", sa.Integer, nullable=False),
    sa.Column("reopen_count", sa.Integer, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("last_seen_at", TS, nullable=False),
    sa.Column("acknowledged_at", TS),
    sa.Column("resolved_at", TS),
    sa.Column("closed_at", TS),
    sa.Column("resolution", sa.Text),
    sa.Column("ack_expired_at", TS),  # set when a forgotten ack expires (0009)
    sa.Column("tta_breach_at", TS),   # when the TTA breach event was written (0011)
    sa.Column("ttr_breach_at", TS),
    sa.Column("silence_id", sa.BigInteger),       # label silence that mutes it (0004)
    sa.Column("inhibited_by", sa.BigInteger),     # open alert that suppresses it
    sa.Column("inhibit_rule_id", sa.BigInteger),  # ... under this inhibition rule
    sa.Column("flapping", sa.Boolean, nullable=False),
    sa.Column("flapping_since", TS),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("tta_target_s", sa.Integer, nullable=False),
    sa.Column("ttr_target_s", sa.Integer, nullable=False),
    sa.Column("tta_due_at", TS, nullable=False),
    sa.Column("ttr_due_at", TS, nullable=False),
    sa.Column("sla_due_at", TS, sa.Computed("sla_due_at")),
    sa.Column("tta_s", sa.Float, sa.Computed("tta_s")),
    sa.Column("ttr_s", sa.Float, sa.Computed("ttr_s")),
    # duplicate_count once resolved or closed, null while open (0031, reports' index)
    sa.Column("final_duplicate_count", sa.Integer, sa.Computed("final_duplicate_count")),
    # created_at of the previous alert of the same fingerprint, and of the same fingerprint
    # and service / device (0033; core/alerts/recurrence.py): recurrences without a hash
    sa.Column("prev_at", TS),
    sa.Column("prev_service_at", TS),
    sa.Column("prev_device_at", TS),
)

alert_events = sa.Table(
    "alert_events", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("alert_id", sa.BigInteger, nullable=False),
    sa.Column("at", TS, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("from_state", sa.Text),
    sa.Column("to_state", sa.Text),
    sa.Column("note", sa.Text),
    sa.Column("metadata", JSONB, nullable=False),
)

settings = sa.Table(
    "settings", metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", JSONB, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("updated_by", sa.Text),
)

alert_groups = sa.Table(
    "alert_groups", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("group_key", sa.Text, nullable=False),
    sa.Column("group_by", JSONB, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("first_seen_at", TS, nullable=False),
    sa.Column("last_seen_at", TS, nullable=False),
    sa.Column("resolved_at", TS),
    sa.Column("notify_at", TS, nullable=False),
    sa.Column("notified_at", TS),
    sa.Column("member_count", sa.Integer, nullable=False),
    sa.Column("open_count", sa.Integer, nullable=False),
    sa.Column("max_severity_rank", sa.SmallInteger, nullable=False),
    sa.Column("raw_events", sa.BigInteger, nullable=False),
)

heartbeats = sa.Table(
    "heartbeats", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("timeout_s", sa.Integer, nullable=False),
    sa.Column("service", sa.Text, nullable=False),
    sa.Column("device_id", sa.Text, nullable=False),
    sa.Column("severity", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("last_beat_at", TS, nullable=False),
    sa.Column("expires_at", TS, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("alert_id", sa.BigInteger),
)

silences = sa.Table(
    "silences", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("matchers", JSONB, nullable=False),
    sa.Column("starts_at", TS, nullable=False),
    sa.Column("ends_at", TS, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("comment", sa.Text, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("expired_at", TS),
    sa.Column("expired_by", sa.Text),
)

inhibit_rules = sa.Table(
    "inhibit_rules", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("source_match", JSONB, nullable=False),
    sa.Column("target_match", JSONB, nullable=False),
    sa.Column("equal", sa.ARRAY(sa.Text), nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_by", sa.Text),
    sa.Column("updated_at", TS, nullable=False),
)

notifications = sa.Table(  # the outbox + delivery log (0007); see core/notify/
    "notifications", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("idempotency_key", sa.Text, nullable=False),
    sa.Column("alert_id", sa.BigInteger),
    sa.Column("group_id", sa.BigInteger),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("target", JSONB, nullable=False),
    sa.Column("recipient", sa.Text, nullable=False),
    sa.Column("payload", JSONB, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", TS, nullable=False),
    sa.Column("claimed_until", TS),
    sa.Column("last_error", sa.Text),
    sa.Column("provider_id", sa.Text),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("sent_at", TS),
    sa.Column("bundled_into", sa.BigInteger),
    sa.Column("receipt", sa.Text),
    sa.Column("receipt_at", TS),
    sa.Column("receipt_error", sa.Text),
)

notification_attempts = sa.Table(
    "notification_attempts", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("notification_id", sa.BigInteger, nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("at", TS, nullable=False),
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("provider_id", sa.Text),
    sa.Column("duration_ms", sa.Integer, nullable=False),
)

escalation_policies = sa.Table(
    "escalation_policies", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("match", JSONB, nullable=False),
    sa.Column("tiers", JSONB, nullable=False),
    sa.Column("repeat", JSONB(none_as_null=True)),
    sa.Column("ack_timeout_s", sa.Integer),
    sa.Column("severity_escalation", JSONB(none_as_null=True)),
    sa.Column("threshold", JSONB(none_as_null=True)),   # 0021
    sa.Column("renotify_after", sa.Integer),            # 0023
    sa.Column("priority", sa.Integer, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_by", sa.Text),
    sa.Column("updated_at", TS, nullable=False),
)

alert_escalations = sa.Table(
    "alert_escalations", metadata,
    sa.Column("alert_id", sa.BigInteger, primary_key=True),
    sa.Column("policy_id", sa.BigInteger),
    sa.Column("policy_snapshot", JSONB, nullable=False),
    sa.Column("started_at", TS, nullable=False),
    sa.Column("next_tier", sa.Integer, nullable=False),
    sa.Column("repeats_done", sa.Integer, nullable=False),
    sa.Column("next_at", TS),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("stopped_reason", sa.Text),
    sa.Column("cycle", sa.Integer, nullable=False),
    sa.Column("expedited", sa.Text),
    sa.Column("last_fired_at", TS),
    sa.Column("ack_due_at", TS),
    sa.Column("severity_due_at", TS),
    sa.Column("severity_raised", sa.Boolean, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("group_id", sa.BigInteger),   # the incident it pages for (0018); null: one alert
    sa.Column("stopped_at", TS),
    sa.Column("signals_at_page", sa.BigInteger),   # 0023: signals counted at the last page
)

oncall_schedules = sa.Table(  # on-call schedules (0010); rules in core/oncall/rules.py
    "oncall_schedules", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("timezone", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
)

oncall_layers = sa.Table(
    "oncall_layers", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("schedule_id", sa.BigInteger, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("rotation", sa.Text, nullable=False),
    sa.Column("shift_hours", sa.Integer),
    sa.Column("handoff", sa.Time, nullable=False),
    sa.Column("start", sa.Date, nullable=False),
    sa.Column("participants", sa.ARRAY(sa.Text), nullable=False),
    sa.Column("restrictions", JSONB, nullable=False),
)

oncall_overrides = sa.Table(
    "oncall_overrides", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("schedule_id", sa.BigInteger, nullable=False),
    sa.Column("username", sa.Text, nullable=False),
    sa.Column("starts_at", TS, nullable=False),
    sa.Column("ends_at", TS, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("created_at", TS, nullable=False),
)

audit_log = sa.Table(  # configuration changes, append-only (0012); read by core/audit.py
    "audit_log", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("at", TS, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("actor_role", sa.Text),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("entity", sa.Text, nullable=False),
    sa.Column("entity_id", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("before", JSONB),
    sa.Column("after", JSONB),
    sa.Column("note", sa.Text),
)

ui_sessions = sa.Table(  # web UI sign-in sessions (0025); see core/signin.py
    "ui_sessions", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("sid_hash", sa.Text, nullable=False),
    sa.Column("user_id", sa.BigInteger, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("last_seen_at", TS, nullable=False),
    sa.Column("expires_at", TS, nullable=False),
    sa.Column("revoked_at", TS),
    sa.Column("revoked_reason", sa.Text),
    sa.Column("via", sa.Text, nullable=False),
    sa.Column("sso_key", sa.Text),
)

login_throttle = sa.Table(  # failed password sign-ins (0028); see core/login_throttle.py
    "login_throttle", metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("last_failure_at", TS, nullable=False),
    sa.Column("blocked_until", TS),
)

action_link_uses = sa.Table(  # spent signed action links (0030); see core/respond/links.py
    "action_link_uses", metadata,
    sa.Column("notification_id", sa.BigInteger, primary_key=True),
    sa.Column("action", sa.Text, primary_key=True),
    sa.Column("used_at", TS, nullable=False),
    sa.Column("used_by", sa.Text, nullable=False),
    sa.Column("outcome", sa.Text, nullable=False),
)
