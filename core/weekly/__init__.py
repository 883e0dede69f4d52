"""The weekly report of a team or service: one local week, for people to read and send.

- ``report``: the week (local, DST-aware), alerts, SLA, noise, recurrences (SQL);
- ``people``: hours on call, responses, the busiest person;
- ``render``: Markdown, self-contained HTML and CSV of the same tables (pure).
"""
