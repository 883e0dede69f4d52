"""Streamlit pages, one per file, run by path from dashboard/app.py's st.navigation. A
package only so that import-linter can check them (they call core functions, never the
database layer)."""
