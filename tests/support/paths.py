"""Where the project is, for tests that run its files (the CLI, `streamlit run app.py`)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
