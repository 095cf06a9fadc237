"""The zero-configuration demo: a generated release tracker (year tabs, statistics block,
link cells, colored Length cells) served by the project's own Sheets API stand-in on
127.0.0.1, with realistic latency, so the demo runs the real gspread path and a new user sees
the stages, the tabs and the progress bar move for a few seconds."""

from __future__ import annotations

import threading

from ..config import Settings

DEMO_SPREADSHEET_KEY = "catalog-sync-demo-spreadsheet-2025"
DEMO_API_KEY = "catalog-sync-demo"
DEMO_LATENCY_SECONDS = 0.2
DEMO_CHUNK_ROWS = 500  # rows per request of each kind: about 16 requests, 5 s in all
DEMO_WORKSHEETS = "*Prog-metal,*Prog-rock"  # every year's tabs; not the Statistics tab

_server = None
_lock = threading.Lock()


def demo_server():
    """The process's demo Sheets API server, started on first use."""
    global _server
    with _lock:
        if _server is None:
            from ..demo import demo_tracker, tracker_worksheets
            from ..standin import FakeSheetsServer

            server = FakeSheetsServer(latency=DEMO_LATENCY_SECONDS, api_keys={DEMO_API_KEY})
            server.add_spreadsheet(
                DEMO_SPREADSHEET_KEY,
                tracker_worksheets(demo_tracker()),
                title="Catalog Sync demo: a prog release tracker, 2023-2025",
            )
            server.start()
            _server = server
        return _server


def demo_source(settings: Settings):
    from .sheets import GoogleSheetSource

    server = demo_server()
    demo_settings = settings.with_overrides(
        sheet=DEMO_SPREADSHEET_KEY,
        # SYNCCORE_WORKSHEET picks the demo's tabs as it picks a real sheet's: a tab it names
        # that the demo lacks fails the sync with the same message.
        worksheet=settings.worksheet or DEMO_WORKSHEETS,
        sheets_api_url=server.url,
        api_key=DEMO_API_KEY,
        credentials_file=None,
        credentials_info=None,
        read_quota_per_minute=1_000_000,  # the local stand-in has no quota to respect
    )
    source = GoogleSheetSource(demo_settings, chunk_rows=DEMO_CHUNK_ROWS)
    source.description = "the bundled demo sheet"
    source.fetch_message = "Fetching albums from the demo sheet (Google Sheets API stand-in)"
    return source
