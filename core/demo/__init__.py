"""The demo (``ALERTDESK_DEMO=1``, ``python -m dashboard seed-demo``).

- ``fleet``: the demo fleet as data (services, devices, alert types, incidents);
- ``seed``: turns it into users, schedules, policies and a 30-day alert history.
"""
