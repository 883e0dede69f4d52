"""People and how to reach them: each user's contact methods and notification rules.

- ``rules``: validation of contact methods (E.164 phones, e-mail, Slack member ids) and of
  notification rules, urgency by severity, and the plan of one person's page (pure);
- ``store``: contact methods and rules in the database, edited by the user and by admins
  (audited), read by escalation when a tier names a person.
"""
