"""Acting from where the page lands: signed one-click links (``links``), SMS replies and
voice keys (``sms``), Slack buttons (``slack``), PagerDuty's webhooks (``pagerduty``); all
of them end in ``act.act`` — one person, one action, on the alert or incident a page was
about, with the state machine's rules and the alert's timeline (source: link, sms, voice,
slack, pagerduty)."""
