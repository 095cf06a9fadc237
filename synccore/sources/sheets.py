"""A Google Sheet read through gspread over the Sheets API v4.

Cells and their hyperlinks come from `spreadsheets.get` with grid data and a `fields` mask, in
chunks of rows sized to stay near Google's recommended 2 MB per response (measured from the
previous chunk). Every request has a deadline for the whole exchange, a size cap and no
redirects (see `http_limits`), waits its turn in the read quota, and is retried with backoff and
jitter on 429, 5xx, timeouts and broken responses, bounded in count and total time; the waits
are reported to the user. A 200 answer that does not carry the cells asked for is a broken
response too, and the read proves every row it did not get was empty (see `read_grid`), so a
misbehaving proxy or backend can fail a sync but never make albums look removed. gspread's own
`BackOffHTTPClient` is not used: it has no timeout, no jitter and never gives up on a
persistent 429.
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

from ..colorflags import api_color
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
from .base import FetchListener, RawRow, Tab
from .credentials import GoogleIdentity, google_identity
from .http_limits import LimitedAdapter, mount_limited, within_deadline
from .pacing import ReadQuota, backoff_delay, shared_quota

TARGET_RESPONSE_BYTES = 2_000_000  # Google's recommended maximum response size
MAX_RESPONSE_BYTES = 10 * TARGET_RESPONSE_BYTES  # past this an answer is refused, not read
FIRST_CHUNK_ROWS = 2_000
MIN_CHUNK_ROWS, MAX_CHUNK_ROWS = 100, 20_000
CELL_FIELDS = (
    "effectiveValue,hyperlink,textFormatRuns(format(link(uri))),"
    "effectiveFormat(backgroundColor)"  # the tracker marks debuts and reissues by color
)
GRID_FIELDS = f"sheets(data(startRow,rowData(values({CELL_FIELDS}))))"
METADATA_FIELDS = (
    "properties(title),sheets(properties(sheetId,title,index,sheetType,"
    "gridProperties(rowCount,columnCount)))"
)
RETRYABLE_STATUS = {408, 429, 500, 502, 503, 504}
API_URL_SETTING = "SYNCCORE_SHEETS_API_URL"
T = TypeVar("T")


# -- pure: what the API returns, as rows ------------------------------------------------------


def _cell_value(cell: dict[str, Any]) -> Any:
    value = cell.get("effectiveValue")
    if not value:
        return None
    for kind in ("stringValue", "numberValue", "boolValue"):
        if kind in value:
            return value[kind]
    if "errorValue" in value:  # a formula error such as #N/A shows as its text
        return "#" + str(value["errorValue"].get("type", "ERROR")).replace("_", "/")
    return None


def _cell_link(cell: dict[str, Any]) -> str | None:
    if cell.get("hyperlink"):
        return cell["hyperlink"]
    for run in cell.get("textFormatRuns") or ():  # a link inserted with Ctrl+K lives here
        uri = ((run.get("format") or {}).get("link") or {}).get("uri")
        if uri:
            return uri
    return None


_WHITE = (255, 255, 255)


def _cell_color(cell: dict[str, Any]) -> tuple[int, int, int] | None:
    """The cell's background as 0-255 RGB; None for white (every cell's default)."""
    fmt = cell.get("effectiveFormat")
    if not fmt:
        return None
    rgb = api_color(fmt.get("backgroundColor"))
    return None if rgb == _WHITE else rgb


def grid_rows(block: dict[str, Any], first_row: int) -> list[RawRow]:
    """A GridData block as RawRows; `first_row` is the 0-based row the request started at
    (Google omits `startRow` when it is 0). Trailing empty cells and rows are already gone."""
    start = block.get("startRow", first_row)
    rows = []
    for offset, row in enumerate(block.get("rowData") or ()):
        values: list[Any] = []
        links: dict[int, str] | None = None
        colors: dict[int, tuple[int, int, int]] | None = None
        for column, cell in enumerate(row.get("values") or ()):
            values.append(_cell_value(cell))
            link = _cell_link(cell)
            if link:
                links = links or {}
                links[column] = link
            if "effectiveFormat" in cell and (color := _cell_color(cell)) is not None:
                colors = colors or {}
                colors[column] = color
        while values and values[-1] is None:
            values.pop()
        rows.append(RawRow(start + offset + 1, tuple(values), links, colors))
    return rows


def column_letters(count: int) -> str:
    """The letters of the `count`-th column: 1 -> A, 26 -> Z, 27 -> AA."""
    letters = ""
    while count:
        count, rest = divmod(count - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def a1_rows(title: str, first: int, last: int, columns: int) -> str:
    """`'Title'!A{first}:{col}{last}` with 1-based rows; titles quoted as Google expects."""
    quoted = "'" + title.replace("'", "''") + "'"
    return f"{quoted}!A{first}:{column_letters(max(1, columns))}{last}"


def next_chunk_rows(response_bytes: int, rows: int, current: int) -> int:
    """Rows for the next request so its response lands near the 2 MB target."""
    if rows <= 0 or response_bytes <= 0:
        return current
    per_row = response_bytes / rows
    return max(MIN_CHUNK_ROWS, min(MAX_CHUNK_ROWS, int(TARGET_RESPONSE_BYTES * 0.8 / per_row)))


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


def chunk_rows(data: dict[str, Any], first: int, last: int) -> list[RawRow]:
    """The rows of an answer for the 0-based rows [first, last) of one worksheet.

    A retryable "broken" error when the answer does not carry the grid data for exactly that
    range: an `error` key, no `sheets[].data` block, a `startRow` other than `first` (Google
    omits it only when it is 0), cells shifted right, more rows than asked, cells in a shape
    the API does not document. Fewer rows than asked is legitimate (Google omits trailing
    empty rows); `GoogleSheetSource.read_grid` proves the missing rows empty.
    """
    asked = f"rows {first + 1} to {last}"
    if "error" in data:
        raise _broken(f"Google Sheets answered with an error instead of the cells of {asked}")
    sheets = data.get("sheets")
    one_sheet = isinstance(sheets, list) and len(sheets) == 1 and isinstance(sheets[0], dict)
    blocks = sheets[0].get("data") if one_sheet and sheets else None
    if not (isinstance(blocks, list) and len(blocks) == 1 and isinstance(blocks[0], dict)):
        raise _broken(f"Google Sheets answered without the cells of {asked}")
    block = blocks[0]
    start = block.get("startRow", 0)
    if start != first or block.get("startColumn", 0) != 0:
        raise _broken(
            f"Google Sheets answered with cells starting elsewhere than row {first + 1} when "
            f"{asked} were asked for"
        )
    row_data = block.get("rowData") or []
    if not isinstance(row_data, list) or len(row_data) > last - first:
        raise _broken(f"Google Sheets answered with more rows than {asked}")
    try:
        return grid_rows(block, first)
    except (AttributeError, TypeError, KeyError):
        raise _broken(
            f"Google Sheets answered with the cells of {asked} in an unexpected shape"
        ) from None


def has_cells(rows: list[RawRow]) -> bool:
    """Whether any row carries a value, a link or a color (what an empty range must not
    have)."""
    return any(row.values or row.links or row.colors for row in rows)


def _broken(message: str) -> TransientSourceError:
    return TransientSourceError(message, kind="broken")


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
        if self.api_url != DEFAULT_SHEETS_API_URL and url.startswith(DEFAULT_SHEETS_API_URL):
            url = self.api_url + url[len(DEFAULT_SHEETS_API_URL) :]
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
        self, params: dict[str, Any], listener: FetchListener, check: Callable[[dict], T]
    ) -> tuple[T, int]:
        """One `spreadsheets.get`, paced and retried; returns `check(json)` (which raises a
        transient error for an answer not worth keeping) and the answer's size in bytes."""
        http = self._client()
        url = f"{DEFAULT_SHEETS_API_URL}/v4/spreadsheets/{quote(self.key, safe='')}"
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

    def tabs(self, listener: FetchListener) -> list[Tab]:
        """The selected tabs (SYNCCORE_WORKSHEET, or the URL's gid), in sheet order."""
        wanted = self.settings.worksheet or self.settings.worksheet_from_url
        tabs, _ = self._get(
            {"fields": METADATA_FIELDS}, listener, lambda meta: tabs_described(meta, wanted)
        )
        return tabs

    def read(self, listener: FetchListener) -> Iterator[list[RawRow]]:
        """The first selected tab's rows (the engine reads every tab with `read_tab`)."""
        yield from self.read_tab(self.tabs(listener)[0], listener)

    def read_tab(self, tab: Tab, listener: FetchListener) -> Iterator[list[RawRow]]:
        """One selected tab's rows, in chunks."""
        yield from self.read_grid(tab.title, tab.rows, tab.columns, listener)

    def read_grid(
        self, title: str, row_count: int, columns: int, listener: FetchListener
    ) -> Iterator[list[RawRow]]:
        """Rows 1 to `row_count` of the worksheet `title`, in chunks, proved complete.

        Google omits trailing empty rows, so an answer with fewer rows than asked says "the
        rest of this range is empty". A broken answer can say the same (a proxy cutting the
        list short), so no row is taken as empty on one answer's word: rows said empty are
        asked for again, in one request per run of such rows, when rows with data follow the
        run (before those are passed on) or when the sheet ends. That second answer must have
        no cells; if it has some, the first answer was wrong, and the read goes back to the
        first row of the run (nothing from the run was passed on), as a retry within the
        usual bounds. So every row is either in an answer or confirmed empty by two.
        """
        chunk = self.fixed_chunk_rows or FIRST_CHUNK_ROWS
        first = 0  # 0-based row the next request starts at
        said_empty: int | None = None  # rows [said_empty, first) are empty on one answer's word
        conflicts, conflicts_started = 0, 0.0
        while True:
            last = min(row_count, first + chunk)
            rows: list[RawRow] = []
            if first < row_count:
                rows, size = self._rows(title, first, last, columns, listener)
                if self.fixed_chunk_rows is None:
                    chunk = next_chunk_rows(size, last - first, chunk)
            if said_empty is not None and (rows or first >= row_count):
                unproved, said_empty = said_empty, None
                again, _ = self._rows(title, unproved, first, columns, listener)
                if has_cells(again):
                    conflicts += 1
                    conflicts_started = conflicts_started or time.monotonic()
                    error = _broken(
                        f"Google Sheets left rows {unproved + 1} to {first} out of one answer "
                        "but sent cells for them in another"
                    )
                    self._retry_or_raise(error, conflicts, conflicts_started, listener)
                    first = unproved
                    continue
            if first >= row_count:
                return
            if rows:
                yield rows
            if len(rows) < last - first and said_empty is None:
                said_empty = first + len(rows)
            first = last
            listener.fetched(first, row_count)

    def _rows(
        self, title: str, first: int, last: int, columns: int, listener: FetchListener
    ) -> tuple[list[RawRow], int]:
        """The 0-based rows [first, last): one checked request (see `chunk_rows`)."""
        return self._get(
            {
                "ranges": a1_rows(title, first + 1, last, columns),
                "includeGridData": "true",
                "fields": GRID_FIELDS,
            },
            listener,
            lambda data: chunk_rows(data, first, last),
        )


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
