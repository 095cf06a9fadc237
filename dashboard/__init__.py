"""View helpers shared by the Streamlit pages (app.py, pages/). They call synccore's public API."""
