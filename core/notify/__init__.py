"""Notifications: the outbox (``outbox.enqueue`` / ``cancel_pending`` / ``delivery_log``),
one module per channel (email, slack, webhook, sms, pagerduty, console), delivery with
retry, throttling and the SMS limit (``deliver.deliver_due``, run by the worker each
tick), severity → default channels (``routing.default_channels``), payloads
(``format.alert_payload``) and secret handling (``vault``)."""
