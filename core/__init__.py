"""Alertdesk core: domain rules and persistence. No UI or web framework imports here."""
