"""View helpers shared by the Streamlit pages (app.py, app_pages/). They call synccore's public API."""
