"""Helpers the tests share: sheet rows and CSV files, the Sheets API stand-in's sheets and the
catalog oracles, processes (CLI, worker, dashboard), AppTest and Playwright helpers.

Fixtures stay in tests/conftest.py; everything a test imports comes from here."""
