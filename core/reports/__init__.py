"""Reports: analytics over the alert history, aggregated in SQL.

- ``stats``: the scope every report shares (period, zone, filters), statistics, trends,
  a day's summary;
- ``top``: the recurring alerts that fire most, take longest to resolve, escalate most;
- ``related``: the alerts that fire together with a given one.
"""
