"""Settings from environment variables or a mapping (the dashboard passes `st.secrets`).

This is the one place that knows the variable names. Secret values (service account
JSON, API key, database password) live here and are never put into messages: use
`Settings.describe_database()` and `Settings.describe_sheet()` for anything shown.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from .errors import ConfigurationError
from .schedule import Schedule, parse_duration, parse_schedule

DEFAULT_DATABASE_FILE = "catalog.db"
DEFAULT_SHEETS_API_URL = "https://sheets.googleapis.com"

_SHEET_URL_KEY = re.compile(r"/spreadsheets/d/([a-zA-Z0-9_-]+)")
_SHEET_URL_GID = re.compile(r"[#&?]gid=(\d+)")
_BARE_KEY = re.compile(r"^[a-zA-Z0-9_-]{20,}$")


@dataclass(frozen=True)
class Settings:
    """Everything a sync needs to know; immutable so a running sync sees one version."""

    database_url: str = field(default=f"sqlite:///{DEFAULT_DATABASE_FILE}", repr=False)
    sheet: str | None = None  # URL, key, or path to a CSV file; None means the demo sheet
    # Comma-separated names, gids or glob patterns ("*Prog-metal,2017"); "*" is every tab;
    # None means the first worksheet (or the gid in the sheet URL).
    worksheet: str | None = None
    credentials_file: str | None = None
    credentials_info: Mapping[str, Any] | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)
    sheets_api_url: str = DEFAULT_SHEETS_API_URL
    header_aliases: Mapping[str, str] = field(default_factory=dict)  # sheet header -> field
    color_flags: Any = None  # {"#ffba4a": "debut", ...}; None is the tracker's legend
    location_countries: Mapping[str, str] = field(default_factory=dict)  # location -> country
    removal_guard: float = 0.5  # refuse to remove more than this share of the catalog
    heartbeat_timeout: float = 30.0  # seconds without a heartbeat before a sync counts as dead
    batch_size: int = 2000  # albums per transaction
    progress_interval: float = 0.5  # seconds between progress writes
    read_quota_per_minute: int = 60  # Sheets API read requests per minute per user
    request_timeout: float = 60.0  # seconds for any one HTTP request
    max_retries: int = 6
    max_retry_seconds: float = 120.0
    retry_base_seconds: float = 1.0  # first backoff step; doubles per retry, with jitter
    allowed_users: tuple[str, ...] = ()  # who may sync when the dashboard has a login
    schedule: Schedule | None = None  # when the worker starts syncs (SYNCCORE_SCHEDULE)
    stale_after: float | None = None  # seconds; None: twice the schedule's gap, or off
    notify_urls: tuple[str, ...] = field(default=(), repr=False)  # Apprise URLs carry tokens
    notify_after_failures: int = 1  # failures in a row before the first notification
    dashboard_url: str | None = None  # linked from notifications
    run_syncs_in: str = "dashboard"  # or "worker": Sync Now leaves the sync to a worker
    keep_syncs: int = 200  # history (results, row errors) kept for this many recent syncs

    @property
    def is_demo(self) -> bool:
        return not self.sheet

    @property
    def is_csv(self) -> bool:
        sheet = self.sheet or ""
        return sheet.lower().endswith(".csv") and "://" not in sheet

    @property
    def spreadsheet_key(self) -> str:
        """The spreadsheet id from a URL or a bare key."""
        assert self.sheet
        match = _SHEET_URL_KEY.search(self.sheet)
        if match:
            return match.group(1)
        if _BARE_KEY.match(self.sheet.strip()):
            return self.sheet.strip()
        raise ConfigurationError(
            "SYNCCORE_SHEET is not a Google Sheets URL or key. Copy the sheet's address from "
            "the browser, e.g. https://docs.google.com/spreadsheets/d/<key>/edit, or give a "
            "path ending in .csv."
        )

    @property
    def worksheet_from_url(self) -> str | None:
        """A worksheet gid carried by the sheet URL (`#gid=123`), if any."""
        match = _SHEET_URL_GID.search(self.sheet or "")
        return match.group(1) if match else None

    def describe_database(self) -> str:
        """The database URL with any password hidden."""
        try:
            return make_url(self.database_url).render_as_string(hide_password=True)
        except Exception:  # noqa: BLE001 - never let a bad URL (or its password) escape
            return "(unparseable database URL)"

    def describe_sheet(self) -> str:
        if self.is_demo:
            return "the bundled demo sheet"
        if self.is_csv:
            return f"CSV file {self.sheet}"
        tab = f', worksheet "{self.worksheet}"' if self.worksheet else ""
        return f"Google Sheet {self.sheet}{tab}"  # the worksheet too: the guard compares these

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def load_settings(
    secrets: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Build settings: the mapping (e.g. `st.secrets`) wins over the environment."""
    env = dict(os.environ if environ is None else environ)
    merged: dict[str, Any] = {k: v for k, v in env.items() if v != ""}
    for key, value in (secrets or {}).items():
        merged[str(key).upper() if not isinstance(value, Mapping) else str(key)] = value

    def get(name: str) -> Any:
        return merged.get(name)

    def number(name: str, default: float, kind: type = float) -> Any:
        raw = get(name)
        if raw is None:
            return default
        try:
            return kind(raw)
        except (TypeError, ValueError):
            raise ConfigurationError(f"{name} must be a number, got {raw!r}.") from None

    credentials_info = merged.get("gcp_service_account") or merged.get("GCP_SERVICE_ACCOUNT")
    credentials_file = get("GOOGLE_APPLICATION_CREDENTIALS")
    if isinstance(credentials_file, str) and credentials_file.lstrip().startswith("{"):
        try:  # the JSON itself rather than a path to it
            credentials_info, credentials_file = json.loads(credentials_file), None
        except ValueError:
            raise ConfigurationError(
                "GOOGLE_APPLICATION_CREDENTIALS holds text that is not valid JSON; give the path "
                "to the service account key file instead."
            ) from None
    if credentials_info is not None:
        credentials_info = dict(credentials_info)

    aliases = get("SYNCCORE_HEADER_ALIASES") or {}
    if isinstance(aliases, str):
        try:
            aliases = json.loads(aliases)
        except ValueError:
            raise ConfigurationError(
                'SYNCCORE_HEADER_ALIASES must be JSON like {"Band name": "artist"}.'
            ) from None

    locations = _json_mapping(
        get("SYNCCORE_LOCATION_COUNTRIES"),
        'SYNCCORE_LOCATION_COUNTRIES must be JSON like {"Tbilisi, Georgia": "Georgia"}.',
    )
    color_flags = get("SYNCCORE_COLOR_FLAGS")
    if color_flags is not None:
        from .colorflags import color_legend

        color_legend(color_flags)  # a bad legend is a configuration error now, not mid-sync

    users = get("SYNCCORE_ALLOWED_USERS") or ()
    if isinstance(users, str):
        users = [u.strip() for u in users.split(",")]
    database_url = get("SYNCCORE_DATABASE_URL") or f"sqlite:///{DEFAULT_DATABASE_FILE}"
    schedule_text = get("SYNCCORE_SCHEDULE")
    schedule = (
        parse_schedule(str(schedule_text), get("SYNCCORE_TIMEZONE"))
        if schedule_text and str(schedule_text).strip()
        else None
    )
    stale_text = get("SYNCCORE_STALE_AFTER")
    notify = get("SYNCCORE_NOTIFY") or ()
    if isinstance(notify, str):
        notify = notify.split()  # whitespace between URLs; Apprise also splits on commas
    run_in = str(get("SYNCCORE_RUN_SYNCS_IN") or "dashboard").strip().lower()
    if run_in not in ("dashboard", "worker"):
        raise ConfigurationError(
            f"SYNCCORE_RUN_SYNCS_IN must be 'dashboard' or 'worker', got {run_in[:40]!r}."
        )
    after_failures = number("SYNCCORE_NOTIFY_AFTER_FAILURES", 1, int)
    if after_failures < 1:
        raise ConfigurationError("SYNCCORE_NOTIFY_AFTER_FAILURES must be 1 or more.")
    return Settings(
        database_url=str(database_url),
        sheet=(str(get("SYNCCORE_SHEET")).strip() or None) if get("SYNCCORE_SHEET") else None,
        worksheet=str(get("SYNCCORE_WORKSHEET")) if get("SYNCCORE_WORKSHEET") else None,
        credentials_file=str(credentials_file) if credentials_file else None,
        credentials_info=credentials_info,
        api_key=str(get("SYNCCORE_GOOGLE_API_KEY")) if get("SYNCCORE_GOOGLE_API_KEY") else None,
        sheets_api_url=_http_url(
            "SYNCCORE_SHEETS_API_URL", get("SYNCCORE_SHEETS_API_URL") or DEFAULT_SHEETS_API_URL
        ),
        header_aliases=dict(aliases),
        color_flags=color_flags,
        location_countries=locations,
        removal_guard=number("SYNCCORE_REMOVAL_GUARD", 0.5),
        heartbeat_timeout=number("SYNCCORE_HEARTBEAT_TIMEOUT", 30.0),
        batch_size=number("SYNCCORE_BATCH_SIZE", 2000, int),
        read_quota_per_minute=number("SYNCCORE_READ_QUOTA_PER_MINUTE", 60, int),
        request_timeout=number("SYNCCORE_REQUEST_TIMEOUT", 60.0),
        max_retries=number("SYNCCORE_MAX_RETRIES", 6, int),
        max_retry_seconds=number("SYNCCORE_MAX_RETRY_SECONDS", 120.0),
        retry_base_seconds=number("SYNCCORE_RETRY_BASE_SECONDS", 1.0),
        allowed_users=tuple(u for u in users if u),
        schedule=schedule,
        stale_after=parse_duration(str(stale_text), "SYNCCORE_STALE_AFTER") if stale_text else None,
        notify_urls=tuple(str(u).strip() for u in notify if str(u).strip()),
        notify_after_failures=after_failures,
        dashboard_url=str(get("SYNCCORE_DASHBOARD_URL")) if get("SYNCCORE_DASHBOARD_URL") else None,
        run_syncs_in=run_in,
        keep_syncs=_at_least_one("SYNCCORE_KEEP_SYNCS", number("SYNCCORE_KEEP_SYNCS", 200, int)),
    )


def _json_mapping(raw: Any, problem: str) -> dict[str, str]:
    """A mapping setting given as JSON text (environment) or a table (st.secrets)."""
    if raw is None:
        return {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise ConfigurationError(problem) from None
    if not isinstance(raw, Mapping):
        raise ConfigurationError(problem)
    return {str(k): str(v) for k, v in raw.items()}


def _http_url(name: str, raw: Any) -> str:
    """An endpoint URL with its scheme: without one, requests reads "localhost:8080" as a
    scheme of its own and every request fails as if a proxy were in the way."""
    url = str(raw).strip().rstrip("/")
    scheme, _, rest = url.partition("://")
    if scheme.lower() not in ("http", "https") or not rest:
        fix = f" (did you mean 'http://{url[:60]}'?)" if "://" not in url else ""
        raise ConfigurationError(
            f"{name} must start with http:// or https://, got {url[:80]!r}{fix}."
        )
    return url


def _at_least_one(name: str, value: int) -> int:
    if value < 1:
        raise ConfigurationError(
            f"{name} must be at least 1 (the number of most recent syncs whose history is kept)."
        )
    return value


def resolve_sqlite_path(database_url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other databases and in-memory SQLite."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)
