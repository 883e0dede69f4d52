"""Health: a 0-100 score per service or device, its trend and what costs it points.

- ``rules``: the score formula and its bands (pure; docs/HEALTH.md explains it);
- ``store``: the score's inputs in SQL, for every service at once, and the daily trend;
- ``detail``: the alerts behind a score and one service's analytics.
"""
