"""The schema's history: Alembic revisions in ``versions/`` (raw SQL, one concern each,
frozen once released), ``env.py`` (runs them under an advisory lock) and ``apply``
(``upgrade(engine)``, what ``python -m dashboard migrate`` and every start run)."""
