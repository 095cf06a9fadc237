"""View helpers shared by the Streamlit pages (app.py, app_pages/); they call synccore's
public API."""
