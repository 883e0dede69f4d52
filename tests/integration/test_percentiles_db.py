"""``core.reports.percentiles`` gives exactly what ``percentile_cont`` gives (the same doubles,
not close ones) over spread, tied, tiny, negative, one-bucket and empty data."""
import pytest
import sqlalchemy as sa

from core import db as core_db
from core.reports.percentiles import percentiles

FRACTIONS = (0.0, 0.1, 0.5, 0.9, 0.95, 0.99, 1.0)
DATA = {
    "spread": "select random() * 86400 * exp(random() * 5) from generate_series(1, 20000)",
    "ties": "select (g % 7) * 300.0 from generate_series(1, 5000) g",
    "tiny and negative": "select (random() - 0.5) * 0.004 from generate_series(1, 3000)",
    "one value": "select 42.5",
    "two values": "select unnest(array[1.0, 1e9])",
    "one bucket": "select 1000 + g * 1e-6 from generate_series(1, 2000) g",
    "all null": "select null::float8 from generate_series(1, 10)",
    "none": "select 1.0 where false",
}


@pytest.mark.parametrize("name", DATA)
def test_percentiles_equal_percentile_cont(engine: sa.Engine, name: str) -> None:
    with core_db.transaction(engine) as ses:
        ses.execute(sa.text("select setseed(0.17)"))
        ses.execute(sa.text(f"create temp table v as select x::float8 as x, (x * 3)::float8 as y, "
                            f"(x > 0) as pos from ({DATA[name]}) d(x)"))
        got = percentiles(ses, "v", "pos is not false", {}, ("x", "y"), FRACTIONS)
        for col in ("x", "y"):
            exact = ses.execute(sa.text(
                f"select percentile_cont(cast(:f as float8[])) within group (order by {col}) "
                "from v where pos is not false"), {"f": list(FRACTIONS)}).scalar()
            assert got[col] == exact, col


def test_the_where_clause_and_its_parameters_select_the_rows(engine: sa.Engine) -> None:
    with core_db.transaction(engine) as ses:
        ses.execute(sa.text("create temp table w as select g::float8 as x, g % 2 as odd "
                            "from generate_series(1, 1001) g"))
        got = percentiles(ses, "w", "odd = :odd", {"odd": 1}, ("x",), (0.5, 0.25))
    assert got == {"x": [501.0, 251.0]}  # the odd numbers 1..1001: median 501, quartile 251
