"""Service ownership on the SLA page: which team answers for each service (core.teams).
Everyone sees the map; managers edit it in a grid and save it in one go."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core import db, teams
from core.actor import Actor
from core.alerts import queue
from core.clock import SYSTEM_CLOCK
from dashboard import ui


def ownership_frame(mapping: dict[str, str], services: list[str]) -> pd.DataFrame:
    """Every known service (and every mapped one) with its team, unowned ones blank."""
    names = sorted(set(services) | set(mapping))
    return pd.DataFrame({"Service": names, "Team": [mapping.get(n, "") for n in names]})


def edited_mapping(df: pd.DataFrame) -> dict[str, str]:
    return {str(r.Service).strip(): str(r.Team).strip() for r in df.itertuples()
            if isinstance(r.Team, str) and r.Team.strip() and str(r.Service).strip()}


def section(actor: Actor) -> None:
    ui.show_outcome("teams_outcome")
    with db.transaction(ui.engine()) as s:
        mapping, services = teams.load(s), queue.services(s)
    df = ownership_frame(mapping, services)
    st.caption("The 'By team' breakdown groups services by their owner; services without "
               f"one count as {teams.NO_TEAM}.")
    if not actor.can("manager"):
        st.dataframe(df, hide_index=True, width="stretch", key="teams_table")
        ui.csv_button(df, "service-owners.csv", "teams_csv")
        return
    edited = st.data_editor(df, hide_index=True, width="stretch", key="teams_editor",
                            disabled=["Service"], num_rows="fixed")
    ui.csv_button(df, "service-owners.csv", "teams_csv")
    if st.button("Save owners", key="teams_save", type="primary"):
        ui.write_action("teams_outcome", "Service owners saved", teams.put,
                        edited_mapping(edited), actor, SYSTEM_CLOCK.now())
        st.rerun()
