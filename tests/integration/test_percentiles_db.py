"""The bucket indexes' percentiles (migration 0034, core/reports/percentiles.py) are
``percentile_cont``'s figures to the last bit, over values that sit on bucket edges, tie,
come out negative (an acknowledgement stamped before the alert's creation) or are alone in
their scope; and the statistics report reads them, not a sort, when no service is named."""
import importlib
import math
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from core import db as core_db
from core.reports import percentiles as pc
from core.reports import stats
from core.reports.stats import scope, statistics

T = datetime(2026, 3, 1, tzinfo=timezone.utc)
NOW = T + timedelta(days=20)
PS = (0.0, 0.1, 1 / 3, 0.5, 0.9, 0.99, 1.0)

# 2,000 alerts over 10 days, one every 7.2 minutes: alert i acknowledged after a value that
# cycles through bucket edges (e^(k/16) - 1, and a hair either side), ties (i % 7 == 0: 300 s),
# negatives (i % 50 == 1) and a spread up to ~2 days; resolved 1.5x later, some never.
HISTORY = """
insert into alerts (fingerprint, source, service, severity, state, summary, created_at,
    last_seen_at, updated_at, tta_target_s, ttr_target_s, tta_due_at, ttr_due_at,
    acknowledged_at, resolved_at)
select 'p-' || i, 'test', case when i % 3 = 0 then 'web' else 'db' end,
       (array['critical','high','medium','low','info'])[1 + i % 5],
       case when i % 4 = 0 then 'acknowledged' else 'resolved' end, 'alert ' || i,
       c, c, c, 300, 3600, c, c,
       c + make_interval(secs => v), case when i % 4 <> 0 then c + make_interval(secs => 1.5 * v)
       end
from generate_series(1, 2000) as i,
     lateral (select :t + i * interval '432 seconds' as c) at_,
     lateral (select case when i % 7 = 0 then 300
                          when i % 50 = 1 then -(i % 90)
                          when i % 5 = 2 then round((exp((i % 200) / 16.0) - 1)::numeric, 6)
                                              + (i % 3 - 1) * 0.000001
                          else (i * 7919 % 172800) / 1.0 end as v) val
"""
EXACT = "select percentile_cont(cast(:ps as float8[])) within group (order by {col}) from alerts"


@pytest.fixture
def history(engine: sa.Engine) -> None:
    with engine.begin() as c:
        c.execute(sa.text(HISTORY), {"t": T})


def _both(engine: sa.Engine, col: str, sc: stats.Scope) -> tuple[object, object]:
    where, params = sc.where()
    with core_db.transaction(engine) as s:
        got = pc.percentiles(s, col, where, params, PS)
        exact = s.execute(sa.text(EXACT.format(col=col) + f" where {where}"),
                          {**params, "ps": list(PS)}).scalar()
    return got, exact


SCOPES = [(T, NOW, None), (T + timedelta(days=2, hours=5), T + timedelta(days=3), None),
          (T, NOW, "high"), (T + timedelta(hours=1), T + timedelta(hours=3), "info")]


@pytest.mark.parametrize("col", pc.COLUMNS)
@pytest.mark.parametrize("start,end,severity", SCOPES)
def test_bucket_percentiles_are_percentile_conts_figures(engine, history, col, start, end,
                                                         severity) -> None:
    got, exact = _both(engine, col, scope(start, end, NOW, severity=severity))
    assert exact is not None and got == exact  # exactly, not rounded


def test_the_history_crosses_bucket_edges_and_ties(engine, history) -> None:
    with engine.connect() as c:
        buckets, negative, ties = c.execute(sa.text(
            f"select count(distinct {pc.bucket_sql('tta_s')}), count(*) filter "
            "(where tta_s < 0), count(*) filter (where tta_s = 300) from alerts")).one()
    assert buckets > 100 and negative >= 30 and ties >= 250


@pytest.mark.parametrize("col", pc.COLUMNS)
def test_one_value_and_no_value(engine, history, col) -> None:
    one = scope(T + timedelta(seconds=432 * 3), T + timedelta(seconds=432 * 3 + 1), NOW)
    none = scope(NOW, NOW + timedelta(days=1), NOW)
    got, exact = _both(engine, col, one)
    assert got == exact and len(set(got)) == 1  # type: ignore[arg-type]
    assert _both(engine, col, none) == (None, None)


def test_statistics_read_the_buckets_unless_one_service_is_named(engine, history,
                                                                  monkeypatch) -> None:
    sorts: list[str] = []
    real = sa.text

    def spy(sql: str) -> sa.TextClause:
        if "percentile_cont" in sql:
            sorts.append(sql)
        return real(sql)

    monkeypatch.setattr(stats.sa, "text", spy)
    with core_db.transaction(engine) as s:
        all_ = statistics(s, scope(T, NOW, NOW))
        assert not sorts
        web = statistics(s, scope(T, NOW, NOW, service="web"))
        assert len(sorts) == 1
    _, exact = _both(engine, "ttr_s", scope(T, NOW, NOW))
    assert [all_["resolution_s"]["p50"], all_["resolution_s"]["p90"]] == [
        round(exact[3], 3), round(exact[4], 3)]  # type: ignore[index]
    assert web["resolution_s"]["count"] < all_["resolution_s"]["count"]


def test_the_reports_bucket_is_the_indexed_expression(engine) -> None:
    """A bucket spelled differently from the index would still be right, but would read the
    table: the report and the migration must spell it the same."""
    with engine.connect() as c:
        defs = c.execute(sa.text("select indexdef from pg_indexes where indexname in "
                                 "('alerts_tta_s_buckets', 'alerts_ttr_s_buckets')")).scalars()
        defs = " ".join(defs)
    migration = importlib.import_module("core.migrations.versions.0034_time_buckets")
    for col in pc.COLUMNS:
        assert pc.bucket_sql(col) == migration.BUCKET.format(col=col)
        assert f"WHERE ({col} IS NOT NULL)" in defs


def test_buckets_follow_the_values_to_infinity_and_never_fail(engine) -> None:
    """Monotone over negatives, edges and huge values; infinity and NaN (PostgreSQL 17+ can
    compute an infinite time) land in the last bucket instead of failing the write."""
    values = ["-5", "0", "1e-9", "0.0645", "0.0646", "1", "300", "1e6", "1e300", "infinity",
              "NaN"]
    sql = (f"select {pc.bucket_sql('v')} from unnest(cast(:vs as float8[])) "
           "with ordinality as t(v, i) order by i")
    with engine.connect() as c:
        buckets = c.execute(sa.text(sql), {"vs": values}).scalars().all()
    assert buckets == sorted(buckets) and buckets[0] == buckets[1] == 0
    assert buckets[-1] == buckets[-2] > buckets[-3]


def test_a_percentile_between_two_buckets_is_in_the_history(engine, history) -> None:
    """At least one scope's percentile falls between values of two buckets (both fetched)."""
    straddles = 0
    for start, end, severity in SCOPES:
        where, params = scope(start, end, NOW, severity=severity).where()
        with engine.connect() as c:
            vals, bks = c.execute(sa.text(
                f"select array_agg(ttr_s order by ttr_s), array_agg({pc.bucket_sql('ttr_s')} "
                f"order by ttr_s) from alerts where ttr_s is not null and {where}"), params).one()
        for p in PS:
            x = p * (len(vals) - 1)
            straddles += bks[math.floor(x)] != bks[math.ceil(x)]
    assert straddles >= 1


def test_the_statement_reads_the_bucket_indexes_alone(engine, history) -> None:
    with engine.connect() as c:
        c.execution_options(isolation_level="AUTOCOMMIT").execute(
            sa.text("vacuum analyze alerts"))
    where, params = scope(T, NOW, NOW).where()
    for col in pc.COLUMNS:
        sql = pc.PERCENTILES_SQL.format(col=col, bucket=pc.bucket_sql(col), where=where)
        with core_db.transaction(engine) as s:
            stats.read_index(s)
            plan = "\n".join(s.execute(sa.text("explain " + sql),
                                       {**params, "ps": [0.5]}).scalars())
        assert plan.count(f"Index Only Scan using alerts_{col}_buckets") >= 2, plan
        assert "Seq Scan" not in plan and "Bitmap Heap Scan" not in plan, plan


@pytest.mark.parametrize("ps", [(), (0.5, 1.5), (-0.1,)])
def test_percentiles_outside_0_to_1_are_refused(engine, ps) -> None:
    with core_db.transaction(engine) as s, pytest.raises(ValueError, match="between 0 and 1"):
        pc.percentiles(s, "tta_s", "true", {}, ps)
