"""Sheet sources: Google Sheets over the API, a local CSV file, or the bundled demo sheet."""

from __future__ import annotations

from ..config import Settings
from .base import FetchListener, NullFetchListener, RawRow, SheetSource


def open_source(settings: Settings) -> SheetSource:
    """The source the settings name; the demo sheet when none is configured."""
    if settings.is_demo:
        from .demo import demo_source

        return demo_source(settings)
    if settings.is_csv:
        from .csv_file import CsvSource

        return CsvSource(settings.sheet or "")
    from .sheets import GoogleSheetSource

    return GoogleSheetSource(settings)


__all__ = ["FetchListener", "NullFetchListener", "RawRow", "SheetSource", "open_source"]
