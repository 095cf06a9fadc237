"""Catalog Sync's engine: keep a SQL album catalog in step with a Google Sheet.

The public API, for the dashboard and the command line:

    sync = CatalogSync(load_settings())       # one per process
    op_id = sync.start_sync("alice@example.com")  # daemon thread; SyncAlreadyRunning if busy
    sync.current_status()                     # live progress, cheap enough for a 2 s poll
    sync.cancel_sync("alice@example.com")
    sync.history(), sync.row_errors(op_id), sync.albums(AlbumFilter(...)), sync.facets()
"""

from .catalog import AlbumFilter, AlbumPage, AlbumView, CatalogFacets
from .config import Settings, load_settings
from .counters import LABELS as COUNTER_LABELS
from .counters import RESULT_COUNTERS
from .errors import (
    CancelRefused,
    ConfigurationError,
    RemovalGuardTripped,
    SourceError,
    SyncAlreadyRunning,
    SyncError,
)
from .models import SyncStage, SyncStatus
from .operations import Progress, default_user
from .rows import FIELD_LABELS
from .service import CatalogSync
from .status import OperationStatus, RowErrorRecord, SyncSummary

__all__ = [
    "COUNTER_LABELS",
    "RESULT_COUNTERS",
    "FIELD_LABELS",
    "AlbumFilter",
    "AlbumPage",
    "AlbumView",
    "CancelRefused",
    "CatalogFacets",
    "CatalogSync",
    "ConfigurationError",
    "OperationStatus",
    "Progress",
    "RemovalGuardTripped",
    "RowErrorRecord",
    "Settings",
    "SourceError",
    "SyncAlreadyRunning",
    "SyncError",
    "SyncStage",
    "SyncStatus",
    "SyncSummary",
    "default_user",
    "load_settings",
]
