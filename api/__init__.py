"""FastAPI REST v1: parse, authorise, call core. No domain rules here."""
