"""A Google Sheet read through gspread over the Sheets API v4.

Cell values come from `values.batchGet` and links and colors from grid data masked to those
fields and columns, several tabs per request, each kind of request sized to stay near Google's
recommended 2 MB per response (see `lean_read`). Every request has a deadline for the whole
exchange, a size cap and no redirects (see `http_limits`), waits its turn in the read quota,
and is retried with backoff and jitter on 429, 5xx, timeouts and broken responses, bounded in
count and total time; the waits are reported to the user. A 200 answer that does not carry the
cells asked for is a broken response too, and the read proves every row it did not get was
empty (see `lean_read`), so a misbehaving proxy or backend can fail a sync but never make albums
look removed. gspread's own `BackOffHTTPClient` is not used: it has no timeout, no jitter and
never gives up on a persistent 429.
"""

from __future__ import annotations

import fnmatch
import math
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import quote

import gspread
import requests
from google.auth.exceptions import RefreshError, TransportError
from google.auth.transport.requests import AuthorizedSession, Request
from gspread.exceptions import APIError

from ..config import DEFAULT_SHEETS_API_URL, Settings
from ..errors import (
    CredentialsRejected,
    MalformedResponse,
    NetworkUnreachable,
    QuotaExceeded,
    SheetNotFound,
    SheetNotShared,
    SourceError,
    TransientSourceError,
    WorksheetNotFound,
)
from .answers import broken as _broken
from .base import FetchListener, RawRow, Tab
from .credentials import GoogleIdentity, google_identity
from .http_limits import LimitedAdapter, mount_limited, within_deadline
from .lean_read import TARGET_RESPONSE_BYTES, LeanRead
from .pacing import ReadQuota, backoff_delay, shared_quota

MAX_RESPONSE_BYTES = 10 * TARGET_RESPONSE_BYTES  # past this an answer is refused, not read
METADATA_FIELDS = (
    "properties(title),sheets(properties(sheetId,title,index,sheetType,"
    "gridProperties(rowCount,columnCount)))"
)
RETRYABLE_STATUS = {408, 429, 500, 502, 503, 504}
API_URL_SETTING = "SYNCCORE_SHEETS_API_URL"
T = TypeVar("T")


# -- pure: what the API returns, as rows ------------------------------------------------------


def pick_worksheet(sheets: list[dict[str, Any]], wanted: str | None) -> dict[str, Any]:
    """The worksheet's properties by gid or title (exact, then case-insensitive), or the first."""
    grids = _grid_tabs(sheets)
    if wanted is None:
        return grids[0]
    text = wanted.strip()
    for match in (
        lambda p: text.isdigit() and str(p.get("sheetId", 0)) == text,
        lambda p: p.get("title") == text,
        lambda p: str(p.get("title", "")).casefold() == text.casefold(),
    ):
        found = [p for p in grids if match(p)]
        if found:
            return found[0]
    names = ", ".join(f'"{p.get("title")}" (gid {p.get("sheetId", 0)})' for p in grids)
    headline = f'The spreadsheet has no worksheet "{text}".'
    raise WorksheetNotFound(
        f"{headline} Its worksheets are: {names}. Set "
        "SYNCCORE_WORKSHEET to one of these names or gids, or leave it empty for the first.",
        headline=headline,  # the name can hold ". " or quotes: no guessing where it ends
    )


_GLOB = frozenset("*?[")


def _grid_tabs(sheets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    grids = [
        s["properties"]
        for s in sheets
        if s.get("properties", {}).get("sheetType", "GRID") == "GRID"
    ]
    if not grids:
        raise WorksheetNotFound("The spreadsheet has no worksheet with cells (only charts).")
    return sorted(grids, key=lambda p: p.get("index", 0))


def select_worksheets(sheets: list[dict[str, Any]], wanted: str | None) -> list[Tab]:
    """The tabs SYNCCORE_WORKSHEET selects, in sheet order: a comma-separated list of names,
    gids and glob patterns ("*Prog-metal"), "*" for every tab; the first tab when unset.

    A name or gid that matches no tab is an error (it was named on purpose); a pattern that
    matches none is not, as long as something is selected. Tabs picked only by a pattern are
    marked so, since the engine may skip such a tab when it holds no album table.
    """
    grids = _grid_tabs(sheets)
    items = [item.strip() for item in (wanted or "").split(",") if item.strip()]
    if not items:
        first = grids[0]
        return [_tab(first, explicit=True)]
    picked: dict[int, bool] = {}  # position in `grids` -> named explicitly
    for item in items:
        if _GLOB & set(item):
            pattern = item.casefold()
            for i, p in enumerate(grids):
                if fnmatch.fnmatchcase(str(p.get("title", "")).casefold(), pattern):
                    picked.setdefault(i, False)
            continue
        found = pick_worksheet([{"properties": p} for p in grids], item)
        picked[grids.index(found)] = True
    if not picked:
        names = ", ".join(f'"{p.get("title")}"' for p in grids)
        raise WorksheetNotFound(
            f'No worksheet matches SYNCCORE_WORKSHEET "{wanted}". The worksheets are: {names}.'
        )
    return [_tab(grids[i], explicit=picked[i]) for i in sorted(picked)]


def _tab(props: dict[str, Any], *, explicit: bool) -> Tab:
    """A selected worksheet; a retryable "broken" error when it comes without its name or size
    (reading fewer rows than it has would look like removals)."""
    grid = props["gridProperties"]
    title, row_count, columns = props["title"], grid["rowCount"], grid.get("columnCount", 1)
    if not (isinstance(title, str) and _count(row_count) and _count(columns)):
        raise _broken("Google Sheets described the worksheet without its name or size")
    return Tab(title, int(props.get("sheetId") or 0), row_count, columns, explicit)


def tabs_described(meta: dict[str, Any], wanted: str | None) -> list[Tab]:
    """The selected tabs from a metadata answer (see `select_worksheets`); a retryable
    "broken" error when the answer does not describe the worksheets."""
    sheets = meta.get("sheets")
    if "error" in meta or not isinstance(sheets, list) or not sheets:
        raise _broken("Google Sheets described the spreadsheet without its worksheets")
    try:
        return select_worksheets(sheets, wanted)
    except (KeyError, TypeError, AttributeError):
        raise _broken("Google Sheets described the spreadsheet in an unexpected shape") from None


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


# -- I/O: the session, the retries, the reading -----------------------------------------------


class _RoutedSession(AuthorizedSession):
    """An authorized session that sends gspread's Google URLs to the configured endpoint (a
    Sheets-API-compatible stand-in, or Google itself) with a timeout on every request.

    Both it and its token requests go through a `LimitedAdapter`: capped bodies, no redirects
    (an API key or a signed token request must never reach another address)."""

    def __init__(self, identity: GoogleIdentity, api_url: str, timeout: float, max_bytes: int):
        tokens = requests.Session()
        mount_limited(
            tokens,
            LimitedAdapter(
                max_bytes=max_bytes,
                service="Google's sign-in service",
                check="the token endpoint of the credentials (token_uri in a service account key)",
                max_retries=3,  # as google-auth's own token session: connection errors only
            ),
        )
        super().__init__(
            identity.credentials, refresh_timeout=timeout, auth_request=Request(tokens)
        )
        mount_limited(
            self,
            LimitedAdapter(max_bytes=max_bytes, service="Google Sheets", check=API_URL_SETTING),
        )
        self.api_url, self.default_timeout = api_url, timeout

    def request(self, method, url, *args, **kwargs):
        if self.api_url != DEFAULT_SHEETS_API_URL:
            for google in (DEFAULT_SHEETS_API_URL, DRIVE_API_URL):  # a stand-in serves both
                if url.startswith(google):
                    url = self.api_url + url[len(google) :]
                    break
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().request(method, url, *args, **kwargs)


def _pacing_message(per_minute: int, delay: float) -> Callable[[int], str]:
    """The status line while a read waits its turn in the quota."""
    text = (
        f"Pacing requests to stay within Google's read quota ({per_minute} per minute): "
        f"next read in {max(1, math.ceil(delay))} s..."
    )
    return lambda _seconds: text


class GoogleSheetSource:
    """Reads one worksheet in row chunks; see the module docstring for the rules it keeps."""

    fetch_message = "Fetching albums from Google Sheets"

    def __init__(
        self,
        settings: Settings,
        *,
        chunk_rows: int | None = None,
        quota: ReadQuota | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ):
        self.settings = settings
        self.max_response_bytes = max_response_bytes
        self.key = settings.spreadsheet_key
        self.description = f"Google Sheet {self.key}"
        self.fixed_chunk_rows = chunk_rows
        self._quota = quota
        self.sleep = sleep
        self.requests_made = 0
        self._identity: GoogleIdentity | None = None
        self._http: gspread.HTTPClient | None = None
        self._session: _RoutedSession | None = None
        self._selected: list[Tab] = []
        self._lean: LeanRead | None = None
        self._lean_tabs: list[Tab] = []

    # the client

    def _client(self):
        if self._http is None:
            self._identity = google_identity(self.settings)
            session = _RoutedSession(
                self._identity,
                self.settings.sheets_api_url,
                self.settings.request_timeout,
                self.max_response_bytes,
            )
            self._session = session
            # auth=None: the session signs the requests itself
            http = gspread.Client(auth=None, session=session).http_client  # type: ignore[arg-type]
            http.set_timeout(self.settings.request_timeout)
            self._http = http
            if self._quota is None:
                who = self._identity.email or self._identity.kind
                self._quota = shared_quota(
                    self.settings.sheets_api_url, who, self.settings.read_quota_per_minute
                )
        return self._http

    def _get(
        self,
        params: dict[str, Any],
        listener: FetchListener,
        check: Callable[[dict], T],
        path: str = "",
    ) -> tuple[T, int]:
        """One `spreadsheets.get` (or, with `path`, a method under it such as
        `/values:batchGet`), paced and retried; returns `check(json)` (which raises a transient
        error for an answer not worth keeping) and the answer's size in bytes."""
        http = self._client()
        url = f"{DEFAULT_SHEETS_API_URL}/v4/spreadsheets/{quote(self.key, safe='')}{path}"
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            self._wait_for_quota(listener)
            try:
                self.requests_made += 1
                response = within_deadline(
                    lambda: http.request("get", url, params={**params, "prettyPrint": "false"}),
                    self.settings.request_timeout,
                    listener.check_stop,
                )
                return check(_json(response)), len(response.content)
            except Exception as exc:  # noqa: BLE001 - classified just below
                error = self._classify(exc)
            if not isinstance(error, TransientSourceError):
                raise error
            self._retry_or_raise(error, attempt, started, listener)

    def _retry_or_raise(
        self, error: TransientSourceError, attempt: int, started: float, listener: FetchListener
    ) -> None:
        """Wait before attempt `attempt + 1`, or raise when the retry bounds (count, total
        time since `started`) are spent."""
        delay = backoff_delay(attempt, error.retry_after, base=self.settings.retry_base_seconds)
        spent = time.monotonic() - started
        if attempt > self.settings.max_retries or spent + delay > self.settings.max_retry_seconds:
            raise _exhausted(error, attempt, spent, self.settings.sheets_api_url)
        self._wait(
            delay,
            listener,
            lambda s: (
                f"{error}, retrying in {s} s "
                f"(attempt {attempt + 1} of {self.settings.max_retries + 1})..."
            ),
        )

    def _wait_for_quota(self, listener: FetchListener) -> None:
        quota = self._quota
        assert quota is not None  # set by _client(), which every request calls first
        while (delay := quota.reserve()) > 0:
            per_minute = quota.per_minute
            self._wait(min(delay, 1.0), listener, _pacing_message(per_minute, delay))

    def _wait(self, seconds: float, listener: FetchListener, message: Callable[[int], str]) -> None:
        """Sleep in steps of at most a second, counting down in the status (and letting a
        cancel or shutdown interrupt the wait through the listener)."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            listener.waiting(message(max(1, math.ceil(left))))
            self.sleep(min(1.0, left))

    def _classify(self, exc: Exception) -> SourceError:
        if isinstance(exc, SourceError):
            return exc
        if isinstance(exc, APIError):
            return self._api_error(exc.response)
        if isinstance(exc, RefreshError):
            if getattr(exc, "retryable", False):
                return TransientSourceError("Google's sign-in service is not answering")
            return self._rejected()
        if isinstance(exc, requests.Timeout):
            return TransientSourceError(
                f"Google Sheets did not answer within {self.settings.request_timeout:g} s"
            )
        if isinstance(exc, (requests.ConnectionError, TransportError)):
            return TransientSourceError("Google Sheets could not be reached")
        if isinstance(exc, requests.RequestException):  # e.g. a response cut short
            return TransientSourceError("Google Sheets sent an incomplete response", kind="broken")
        raise exc

    def _api_error(self, response: requests.Response) -> SourceError:
        status = response.status_code
        if status in RETRYABLE_STATUS:
            if status == 429:
                return TransientSourceError(
                    "Rate limited by Google Sheets",
                    retry_after=_retry_after(response),
                    kind="rate_limit",
                )
            return TransientSourceError(
                f"Google Sheets answered HTTP {status}",
                retry_after=_retry_after(response),
                kind="server",
            )
        if status == 401:
            return self._rejected()
        if status == 403:
            return self._not_shared()
        if status == 404:
            return SheetNotFound(
                f"No spreadsheet exists with the key {self.key} (or it was deleted). Check "
                "SYNCCORE_SHEET: copy the URL from the browser's address bar while the sheet is "
                "open."
            )
        detail = _google_message(response)
        return SourceError(
            f"Google Sheets refused the request (HTTP {status}{': ' + detail if detail else ''}). "
            "Check SYNCCORE_SHEET and SYNCCORE_WORKSHEET."
        )

    def _rejected(self) -> CredentialsRejected:
        identity = self._identity
        if identity and identity.kind == "API key":
            return CredentialsRejected(
                "Google rejected the API key in SYNCCORE_GOOGLE_API_KEY. Check that it was "
                "copied whole, that the Google Sheets API is enabled for its project, and that "
                "its restrictions allow the Sheets API."
            )
        who = (
            f"the service account {identity.email}"
            if identity and identity.email
            else ("the configured Google credentials")
        )
        return CredentialsRejected(
            f"Google rejected the credentials of {who}. The key may have been deleted or "
            "disabled, or the server's clock may be wrong. Create a new JSON key for the "
            "service account and configure it (GOOGLE_APPLICATION_CREDENTIALS or "
            "[gcp_service_account])."
        )

    def _not_shared(self) -> SheetNotShared:
        identity = self._identity
        if identity and identity.email:
            return SheetNotShared(
                f"The {identity.kind} {identity.email} may not read this sheet. Open the sheet "
                f"in Google Sheets, click Share and add {identity.email} as a Viewer, then run "
                "the sync again.",
                email=identity.email,
            )
        if identity and identity.kind == "API key":
            return SheetNotShared(
                "The sheet is not shared publicly, so an API key cannot read it. Share it as "
                "'Anyone with the link can view', or configure a service account "
                "(GOOGLE_APPLICATION_CREDENTIALS) and share the sheet with its email."
            )
        return SheetNotShared(
            "The configured Google account may not read this sheet. Share the sheet with it "
            "(Viewer is enough), or configure a service account and share the sheet with its "
            "email."
        )

    # reading

    def modified_time(self) -> str:
        """Drive's `modifiedTime` of the spreadsheet: one `files.get` for that field, neither
        paced nor retried (Drive's quota is not the Sheets read quota, and on any failure the
        sync simply reads everything). Raises `DriveUnavailable` saying why."""
        self._client()
        session = self._session
        assert session is not None
        url = f"{DRIVE_API_URL}/drive/v3/files/{quote(self.key, safe='')}"
        params = {"fields": "modifiedTime", "supportsAllDrives": "true"}
        try:
            response = within_deadline(
                lambda: session.request("GET", url, params=params),
                self.settings.request_timeout,
                lambda: None,
            )
        except Exception as exc:  # noqa: BLE001 - any failure means "read everything"
            raise DriveUnavailable(f"the request failed ({type(exc).__name__})") from None
        if response.status_code != 200:
            reason = _google_message(response) or response.reason or ""
            raise DriveUnavailable(f"Drive answered {response.status_code} {reason}".strip())
        try:
            value = response.json()["modifiedTime"]
        except (ValueError, KeyError, TypeError):
            raise DriveUnavailable("Drive's answer had no modifiedTime") from None
        if not isinstance(value, str) or not value:
            raise DriveUnavailable("Drive's answer had no modifiedTime")
        return value[:40]

    def tabs(self, listener: FetchListener) -> list[Tab]:
        """The selected tabs (SYNCCORE_WORKSHEET, or the URL's gid), in sheet order."""
        wanted = self.settings.worksheet or self.settings.worksheet_from_url
        tabs, _ = self._get(
            {"fields": METADATA_FIELDS}, listener, lambda meta: tabs_described(meta, wanted)
        )
        self._selected, self._lean = tabs, None
        return tabs

    def read(self, listener: FetchListener) -> Iterator[list[RawRow]]:
        """The first selected tab's rows (the engine reads every tab with `read_tab`)."""
        first = self.tabs(listener)[0]
        self._selected = [first]
        yield from self.read_tab(first, listener)

    def read_tab(self, tab: Tab, listener: FetchListener) -> Iterator[list[RawRow]]:
        """One selected tab's rows, in chunks; the tabs `tabs()` selected are read as one
        stream, so one request can carry several tabs' ranges."""
        if self._lean is None or tab not in self._lean_tabs:
            self._lean_tabs = list(self._selected) if tab in self._selected else [tab]
            self._lean = LeanRead(
                self._lean_tabs,
                self._fetch,
                self._retry_or_raise,
                fixed_rows=self.fixed_chunk_rows,
                header_aliases=self.settings.header_aliases,
            )
        yield from self._lean.rows_of(self._lean_tabs.index(tab), listener)

    def _fetch(
        self, path: str, params: dict[str, Any], check: Callable[[dict], T], listener
    ) -> tuple[T, int]:
        return self._get(params, listener, check, path)


DRIVE_API_URL = "https://www.googleapis.com"


class DriveUnavailable(Exception):
    """The sheet's modified time could not be read (the message says why, for the log)."""


def _json(response: requests.Response) -> dict:
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise TransientSourceError(
            "Google Sheets sent a response that is not valid JSON", kind="broken"
        )
    return data


def _retry_after(response: requests.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None


def _google_message(response: requests.Response) -> str:
    try:
        return str(response.json()["error"]["message"])[:200]
    except Exception:  # noqa: BLE001 - the body is only a hint
        return ""


def _exhausted(
    error: TransientSourceError, attempts: int, spent: float, api_url: str
) -> SourceError:
    tried = f"after {attempts} attempt{'s' if attempts != 1 else ''} over {spent:.0f} s"
    reason = str(error)
    if error.kind == "rate_limit":
        return QuotaExceeded(
            f"Google Sheets kept answering 'rate limit exceeded' (HTTP 429) {tried}. Its read "
            "quota is 60 requests per minute per user, shared by everything that uses these "
            "credentials. Wait a minute and run the sync again, or ask for a higher quota in "
            "the Google Cloud console. The catalog was not changed."
        )
    if error.kind == "broken":
        return MalformedResponse(
            f"{reason} {tried}. A proxy or firewall between this server and Google may be "
            "interfering. The catalog was not changed; run the sync again later."
        )
    if error.kind == "server":
        return NetworkUnreachable(
            f"{reason} {tried}: Google Sheets is having trouble. The catalog was not changed; "
            "run the sync again in a few minutes."
        )
    return NetworkUnreachable(
        f"{reason} {tried} ({api_url}). Check this server's network connection and proxy "
        "settings, then run the sync again. The catalog was not changed."
    )
