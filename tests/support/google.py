"""A small tracker sheet on the Sheets API stand-in, read by the gspread path with a service
account: what test_sheets_source.py and test_google_errors.py share."""

from __future__ import annotations

from synccore import operations
from synccore.config import Settings
from synccore.standin import make_service_account
from synccore.sync import execute_operation

from .albums import HEADER

KEY = "1TestSpreadsheetKey_abcdefghijklmnop"
SPOTIFY = "https://open.spotify.com/album/"
ID_A, ID_B = "4aawyAB9vmqN3uQ7FjRGTy", "0sNOF9WDwhWunNAHPD3Baj"


def tracker_values(albums: int = 0) -> tuple[list[list], dict]:
    """A title row, a blank row, the header, a section row and two albums, plus `albums` more."""
    values = [
        ["2025 releases (community tracker)"],
        [],
        HEADER,
        ["JANUARY"],
        [45667, "Sólstafir", "Hin helga kvöl", "Post-Metal", "Mixed", "Iceland", "Listen"],
        [
            "March 2025",
            "Ghost Bath",
            "Rose Thorn Necklace",
            "Black Metal",
            "Harsh",
            "USA",
            SPOTIFY + ID_B + "?si=x",
        ],
    ]
    values += [["2025", f"Artist {n}", f"Album {n}", "Doom"] for n in range(albums)]
    return values, {(4, 6): SPOTIFY + ID_A}


def google_settings(database_url: str, server, **overrides) -> Settings:
    values = dict(
        database_url=database_url,
        sheet=f"https://docs.google.com/spreadsheets/d/{KEY}/edit",
        sheets_api_url=server.url,
        credentials_info=make_service_account(server),
        retry_base_seconds=0.01,
        request_timeout=5.0,
    )
    values.update(overrides)
    return Settings(**values)


def run(settings: Settings, source=None, on_progress=None):
    """Claim and run one sync in the foreground, returning the operation's final status."""
    from synccore.service import CatalogSync

    sync = CatalogSync(settings)
    op_id = operations.claim(sync.db, settings, "tester")
    execute_operation(sync.db, settings, op_id, source=source, on_progress=on_progress)
    return sync, sync.operation(op_id)
