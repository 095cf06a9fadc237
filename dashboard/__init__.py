"""View helpers shared by the Streamlit pages (app.py, pages/); they call synccore's
public API."""
