"""A stand-in for the Google Sheets API v4, served over real HTTP on 127.0.0.1.

Tests, benchmarks and the zero-config demo point the real gspread/google-auth path at it
(`Settings.sheets_api_url`), so retries, timeouts, auth and response decoding are exercised
for real. It answers the read endpoints the sync uses, in Google's JSON shapes:

- `GET /v4/spreadsheets/{key}` (`fields`, `ranges`, `includeGridData`)
- `GET /v4/spreadsheets/{key}/values/{range}` and `/values:batchGet?ranges=...`
- `POST /token`: an OAuth2 token endpoint for service-account JWT assertions

Deliberate simplifications: no formulas other than =HYPERLINK, no dates (a date is its
serial number), formats only as background colors,
FORMATTED_VALUE is a plain rendering, the read quota is one window shared by all callers,
and nothing can be written. Faults (`inject`) let a test script 429s, 5xx, redirects, slow,
trickling, oversized, malformed, truncated and reset responses, and 200 answers that say
something other than what was asked.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote

JSON = dict[str, Any]

_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_STATUS_MESSAGES = {
    400: "Request contains an invalid argument.",
    401: (
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
        "cookie or other valid authentication credential. See "
        "https://developers.google.com/identity/sign-in/web/devconsole-project."
    ),
    403: "The caller does not have permission",
    404: "Requested entity was not found.",
    429: (
        "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute "
        "per user' of service 'sheets.googleapis.com' for consumer 'project_number:0'."
    ),
    500: "Internal error encountered.",
    502: "Bad Gateway",
    503: "The service is currently unavailable.",
    504: "The service is currently unavailable.",
}
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
_NAMED_FAULTS = {"slow", "malformed", "truncated", "reset", "trickle", "huge", "answer"}
_SCOPE_READONLY = "https://www.googleapis.com/auth/spreadsheets.readonly"


# --- the data -------------------------------------------------------------------------------


@dataclass
class FakeWorksheet:
    """One worksheet (tab). `values` is row-major and 0-based; None or "" is an empty cell.

    A link in `links` is returned as the cell's `hyperlink` field, unless the cell is in
    `text_run_links`: then it is only in `textFormatRuns[].format.link.uri`, which is where
    modern Sheets keeps a link inserted with Ctrl+K. A cell in `formula_links` is an
    `=HYPERLINK(url, label)` formula: its label is the value and the URL its `hyperlink`.
    `backgrounds` ("#rrggbb") are served as `effectiveFormat.backgroundColor` when the fields
    mask asks for it. `row_count`/`column_count` set the grid size (default: just big enough
    for `values`), as a real sheet has empty rows at the end.
    """

    title: str
    sheet_id: int
    values: list[list[Any]]
    links: dict[tuple[int, int], str] = field(default_factory=dict)
    text_run_links: set[tuple[int, int]] = field(default_factory=set)
    row_count: int | None = None
    column_count: int | None = None
    formula_links: set[tuple[int, int]] = field(default_factory=set)
    backgrounds: dict[tuple[int, int], str] = field(default_factory=dict)

    @property
    def grid_rows(self) -> int:
        used = max([len(self.values)] + [r + 1 for r, _ in (*self.links, *self.backgrounds)])
        return max(self.row_count or 0, used, 1)

    @property
    def grid_columns(self) -> int:
        cells = (*self.links, *self.backgrounds)
        used = max([len(row) for row in self.values] + [c + 1 for _, c in cells] + [1])
        return max(self.column_count or 0, used)

    def cell(self, row: int, col: int) -> Any:
        if row < len(self.values) and col < len(self.values[row]):
            value = self.values[row][col]
            return None if value == "" else value
        return None


@dataclass
class _Spreadsheet:
    key: str
    title: str
    worksheets: list[FakeWorksheet]
    shared_with: set[str] | None
    public: bool


@dataclass
class _Fault:
    kind: int | str
    remaining: int
    path_contains: str | None
    delay: float
    retry_after: float | None
    query_contains: str | None = None
    location: str | None = None
    size: int = 0
    declare_length: bool = True
    answer: JSON | Callable[[JSON], JSON] | None = None

    def matches(self, path: str, query: str) -> bool:
        if self.query_contains is not None and self.query_contains not in query:
            return False
        if self.path_contains is None:
            return not path.startswith("/token")
        return self.path_contains in path


class FakeApiError(Exception):
    """An error answered in Google's JSON error shape."""

    def __init__(self, code: int, message: str | None = None, headers: dict | None = None):
        super().__init__(message or _STATUS_MESSAGES.get(code, "Error"))
        self.code = code
        self.headers = headers or {}

    def body(self) -> JSON:
        status = _STATUS_NAMES.get(self.code, "UNKNOWN")
        return {"error": {"code": self.code, "message": str(self), "status": status}}


# --- pure pieces: A1 ranges, field masks, cell rendering -------------------------------------


@dataclass(frozen=True)
class A1Range:
    """A parsed A1 range, 0-based and inclusive; None for an open end or no sheet title."""

    title: str | None
    start_row: int
    start_col: int
    end_row: int | None
    end_col: int | None


_CELL = re.compile(r"^([A-Za-z]{0,3})(\d*)$")
_LOOKS_LIKE_CELL = re.compile(r"^(?:[A-Za-z]{1,3}\d*|\d+|R\d*C\d*)(?::|$)", re.IGNORECASE)


def column_letters(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_index(letters: str) -> int:
    """A -> 0, AA -> 26."""
    index = 0
    for ch in letters.upper():
        index = index * 26 + ord(ch) - 64
    return index - 1


def quote_sheet_title(title: str) -> str:
    """The title as Google writes it in a range it returns: quoted unless plainly a name."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", title) and not _LOOKS_LIKE_CELL.match(title):
        return title
    return "'" + title.replace("'", "''") + "'"


def _split_title(text: str) -> tuple[str | None, str]:
    if text.startswith("'"):
        i, chars = 1, []
        while i < len(text):
            if text[i] == "'":
                if text[i + 1 : i + 2] == "'":
                    chars.append("'")
                    i += 2
                    continue
                rest = text[i + 1 :]
                if rest and not rest.startswith("!"):
                    raise ValueError(text)
                return "".join(chars), rest[1:]
            chars.append(text[i])
            i += 1
        raise ValueError(text)
    if "!" in text:
        title, cells = text.split("!", 1)
        return title, cells
    if _CELL.match(text.split(":", 1)[0]) and all(_CELL.match(p) for p in text.split(":")):
        return None, text
    return text, ""


def _parse_endpoint(text: str) -> tuple[int | None, int | None]:
    match = _CELL.match(text)
    if not match or not (match.group(1) or match.group(2)):
        raise ValueError(text)
    letters, digits = match.groups()
    if digits and int(digits) < 1:
        raise ValueError(text)
    return (int(digits) - 1 if digits else None), (column_index(letters) if letters else None)


def parse_a1(text: str) -> A1Range:
    """Parse `'My Sheet'!A1:H5000`, `Sheet1!A:H`, `Sheet1!1:5`, `A1:B2`, `Sheet1`."""
    title, cells = _split_title(text.strip())
    if title == "":
        raise ValueError(text)
    if not cells:
        return A1Range(title, 0, 0, None, None)
    parts = cells.split(":")
    if len(parts) > 2:
        raise ValueError(text)
    r0, c0 = _parse_endpoint(parts[0])
    r1, c1 = _parse_endpoint(parts[1]) if len(parts) == 2 else (r0, c0)
    if len(parts) == 1 and (r0 is None or c0 is None):
        r1, c1 = (r0, None) if r0 is not None else (None, c0)  # "5" is a row, "A" a column
    if r0 is not None and r1 is not None and r1 < r0:
        r0, r1 = r1, r0
    if c0 is not None and c1 is not None and c1 < c0:
        c0, c1 = c1, c0
    return A1Range(title, r0 or 0, c0 or 0, r1, c1)


def parse_field_mask(mask: str) -> dict[str, Any] | None:
    """A `fields` mask as a tree: {name: subtree}; a subtree of None selects everything."""
    mask = mask.replace(" ", "")
    if mask in ("", "*"):
        return None
    tree, pos = _parse_mask_list(mask, 0)
    if pos != len(mask):
        raise ValueError(mask)
    return tree


def _parse_mask_list(mask: str, pos: int) -> tuple[dict[str, Any], int]:
    tree: dict[str, Any] = {}
    while True:
        match = re.compile(r"[A-Za-z_*][A-Za-z0-9_.*]*").match(mask, pos)
        if not match:
            raise ValueError(mask)
        path, pos = match.group(0).split("."), match.end()
        sub: dict[str, Any] | None = None
        if mask.startswith("(", pos):
            sub, pos = _parse_mask_list(mask, pos + 1)
            if not mask.startswith(")", pos):
                raise ValueError(mask)
            pos += 1
        _merge_mask_path(tree, path, sub)
        if not mask.startswith(",", pos):
            return tree, pos
        pos += 1


def _merge_mask_path(tree: dict[str, Any], path: list[str], sub: dict[str, Any] | None) -> None:
    node = tree
    for name in path[:-1]:
        if name in node and node[name] is None:
            return  # already everything below
        node = node.setdefault(name, {})
    last = path[-1]
    if sub is None or (last in node and node[last] is None):
        node[last] = None
    else:
        for name, child in sub.items():
            _merge_mask_path(node.setdefault(last, {}), [name], child)


def apply_field_mask(value: Any, tree: dict[str, Any] | None) -> Any:
    """Keep only the fields the mask names; lists are masked element by element."""
    if tree is None:
        return value
    if isinstance(value, list):
        return [apply_field_mask(item, tree) for item in value]
    if isinstance(value, dict):
        if "*" in tree:
            return value
        return {k: apply_field_mask(v, tree[k]) for k, v in value.items() if k in tree}
    return value


def unformatted(value: Any) -> Any:
    """A cell as UNFORMATTED_VALUE gives it: integral floats come back as integers."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def formatted(value: Any) -> str:
    """A plain FORMATTED_VALUE rendering (no number formats in the fake)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(unformatted(value))


def extended_value(value: Any) -> JSON:
    """A cell's ExtendedValue: stringValue, numberValue or boolValue."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, (int, float)):
        return {"numberValue": unformatted(value)}
    return {"stringValue": str(value)}


def api_color(hex_color: str) -> JSON:
    """ "#96da77" as a Sheets API Color: channels 0-1, a channel that is 0 omitted."""
    value = int(hex_color.lstrip("#"), 16)
    channels = {"red": value >> 16, "green": (value >> 8) & 0xFF, "blue": value & 0xFF}
    return {name: c / 255 for name, c in channels.items() if c}


def cell_data(sheet: FakeWorksheet, row: int, col: int) -> JSON:
    """The CellData Google returns for one cell; {} for an empty cell without a link."""
    value, link = sheet.cell(row, col), sheet.links.get((row, col))
    cell: JSON = {}
    if value is not None:
        cell["userEnteredValue"] = extended_value(value)
        cell["effectiveValue"] = extended_value(value)
        cell["formattedValue"] = formatted(value)
    if link and (row, col) in sheet.formula_links:
        label = "" if value is None else formatted(value).replace('"', '""')
        cell["userEnteredValue"] = {"formulaValue": f'=HYPERLINK("{link}", "{label}")'}
        cell["hyperlink"] = link
    elif link and (row, col) in sheet.text_run_links:
        cell["textFormatRuns"] = [{"format": {"link": {"uri": link}}}]
    elif link:
        cell["hyperlink"] = link
    color = sheet.backgrounds.get((row, col))
    if color:
        cell["effectiveFormat"] = {"backgroundColor": api_color(color)}
    return cell


def trim_trailing(items: list[Any], is_empty) -> list[Any]:
    """Drop trailing empty items, as Google does with rows and cells."""
    end = len(items)
    while end and is_empty(items[end - 1]):
        end -= 1
    return items[:end]


def _is_empty_value(value: Any) -> bool:
    return value is None or value == ""


# --- the server -----------------------------------------------------------------------------


class FakeSheetsServer:
    """The Sheets API stand-in; start()/stop() or use it as a context manager.

    `api_keys` are accepted as `?key=`; service accounts registered with a public key get
    tokens from `POST /token`; `shared_with` lists the emails a bearer may read as (None:
    everyone). `read_quota_per_minute` limits reads over a sliding `quota_window` (60 s).
    """

    def __init__(
        self,
        *,
        latency: float = 0.0,
        read_quota_per_minute: int | None = None,
        quota_window: float = 60.0,
        api_keys: Iterable[str] = (),
        service_account_public_keys: dict[str, str] | None = None,
        shared_with: set[str] | None = None,
        allow_anonymous: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        self.latency = latency
        self.read_quota_per_minute = read_quota_per_minute
        self.quota_window = quota_window
        self.api_keys = set(api_keys)
        self.service_account_public_keys = dict(service_account_public_keys or {})
        self.shared_with = shared_with
        self.allow_anonymous = allow_anonymous
        self.request_log: list[tuple[str, str, dict[str, list[str]]]] = []
        self.status_counts: Counter[int] = Counter()
        self.read_requests = 0
        self.tokens_issued = 0
        self.huge_bytes_sent = 0  # bytes of "huge" bodies written whole (a capped reader stops)
        self._host, self._port = host, port
        self._lock = threading.Lock()
        self._spreadsheets: dict[str, _Spreadsheet] = {}
        self._faults: list[_Fault] = []
        self._tokens: dict[str, tuple[str, float]] = {}
        self._reads: deque[float] = deque()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("FakeSheetsServer is not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host if isinstance(host, str) else host.decode()}:{port}"

    @property
    def token_url(self) -> str:
        return self.url + "/token"

    def start(self) -> FakeSheetsServer:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        httpd = ThreadingHTTPServer((self._host, self._port), _Handler)
        httpd.daemon_threads = True
        httpd.fake = self  # type: ignore[attr-defined]
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="fake-sheets-api",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._stopping.set()  # wakes handlers sleeping for "slow" or latency
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> FakeSheetsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # setup

    def add_spreadsheet(
        self,
        key: str,
        worksheets: list[FakeWorksheet],
        title: str = "Untitled spreadsheet",
        *,
        shared_with: set[str] | None = None,
        public: bool = True,
    ) -> None:
        """Add or replace a spreadsheet. `shared_with` overrides the server-wide list;
        `public=False` makes API-key (anonymous) reads answer 403."""
        with self._lock:
            self._spreadsheets[key] = _Spreadsheet(
                key, title, list(worksheets), shared_with, public
            )

    def register_service_account(self, email: str, public_key_pem: str) -> None:
        with self._lock:
            self.service_account_public_keys[email] = public_key_pem

    def issue_token(self, email: str, lifetime: float = 3600.0) -> str:
        """A bearer token for `email`, as if it had come from /token."""
        token = "ya29.fake-" + secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = (email, time.time() + lifetime)
            self.tokens_issued += 1
        return token

    def revoke_tokens(self) -> None:
        """Forget every issued token, so the next request with one answers 401."""
        with self._lock:
            self._tokens.clear()

    def inject(
        self,
        fault: int | str,
        times: int = 1,
        path_contains: str | None = None,
        *,
        delay: float = 1.0,
        retry_after: float | None = None,
        query_contains: str | None = None,
        location: str | None = None,
        size: int = 0,
        declare_length: bool = True,
        answer: JSON | Callable[[JSON], JSON] | None = None,
    ) -> None:
        """Queue a fault for the next `times` matching requests.

        `fault` is an HTTP status (429, 500, 503, 403, 404, ...) answered in Google's error
        shape (with a `Location` header when `location` is given, e.g. for 302), or "slow"
        (sleep `delay` s, then answer), "trickle" (the real answer, one byte every `delay` s),
        "huge" (a 200 body of `size` bytes, with a Content-Length only if `declare_length`),
        "answer" (200 with `answer`: a dict, or a function of the real answer returning one),
        "malformed" (invalid JSON body), "truncated" (Content-Length larger than the body, then
        close) or "reset" (close the connection without answering). `path_contains=None`
        matches every API request but not /token; pass "/token" to fault the token endpoint.
        `query_contains` narrows it to requests whose decoded query has that text (e.g.
        "!A21:" for the chunk that starts at row 21).
        """
        if not isinstance(fault, int) and fault not in _NAMED_FAULTS:
            raise ValueError(f"unknown fault {fault!r}")
        with self._lock:
            self._faults.append(
                _Fault(
                    fault,
                    times,
                    path_contains,
                    delay,
                    retry_after,
                    query_contains,
                    location,
                    size,
                    declare_length,
                    answer,
                )
            )

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def reset_log(self) -> None:
        with self._lock:
            self.request_log.clear()
            self.status_counts.clear()
            self.read_requests = 0

    # request handling (called from handler threads)

    def _record(self, method: str, path: str, query: dict[str, list[str]]) -> None:
        with self._lock:
            self.request_log.append((method, path, query))

    def _take_fault(self, path: str, query: str = "") -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(path, query):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    def _authenticate(self, query: dict[str, list[str]], headers) -> str | None:
        """The caller's email for a bearer token; None for an API key or anonymous."""
        auth = headers.get("Authorization", "")
        if auth.lower().startswith("bearer "):
            with self._lock:
                email, expires = self._tokens.get(auth[7:].strip(), ("", 0.0))
            if not email or expires < time.time():
                raise FakeApiError(401)
            return email
        key = query["key"][0] if "key" in query else headers.get("x-goog-api-key")
        if key is not None:
            if key not in self.api_keys:
                raise FakeApiError(401, "API key not valid. Please pass a valid API key.")
            return None
        if self.allow_anonymous:
            return None
        raise FakeApiError(
            401,
            "Request is missing required authentication credential. Expected OAuth 2 access "
            "token, login cookie or other valid authentication credential. See "
            "https://developers.google.com/identity/sign-in/web/devconsole-project.",
        )

    def _count_read(self) -> None:
        with self._lock:
            if self.read_quota_per_minute is not None:
                now = time.monotonic()
                while self._reads and self._reads[0] <= now - self.quota_window:
                    self._reads.popleft()
                if len(self._reads) >= self.read_quota_per_minute:
                    wait = self._reads[0] + self.quota_window - now
                    raise FakeApiError(429, headers={"Retry-After": str(max(1, round(wait)))})
                self._reads.append(now)
            self.read_requests += 1

    def _spreadsheet(self, key: str, email: str | None) -> _Spreadsheet:
        with self._lock:
            book = self._spreadsheets.get(key)
        if book is None:
            raise FakeApiError(404)
        if email is None:
            if not book.public:
                raise FakeApiError(403)
        else:
            allowed = book.shared_with if book.shared_with is not None else self.shared_with
            if allowed is not None and email not in allowed:
                raise FakeApiError(403)
        return book

    def handle_api(self, method: str, raw_path: str, query: dict[str, list[str]], headers) -> JSON:
        """Route one Sheets API request to its JSON answer, or raise FakeApiError."""
        segments = [unquote(s) for s in raw_path.split("/")]
        if method != "GET" or len(segments) < 4 or segments[1:3] != ["v4", "spreadsheets"]:
            raise FakeApiError(404, f"Method not found: {method} {raw_path}")
        email = self._authenticate(query, headers)
        self._count_read()
        book = self._spreadsheet(segments[3], email)
        rest = segments[4:]
        if not rest:
            response = spreadsheet_response(book, query)
        elif rest == ["values:batchGet"]:
            ranges = [_value_range(book, r, query) for r in query.get("ranges", [])]
            response = {"spreadsheetId": book.key, "valueRanges": ranges}
        elif len(rest) == 2 and rest[0] == "values":
            response = _value_range(book, rest[1], query)
        else:
            raise FakeApiError(404, f"Method not found: {method} {raw_path}")
        if "fields" in query:
            response = _masked(response, query["fields"][0])
        return response

    def handle_token(self, body: bytes) -> tuple[int, JSON]:
        """The OAuth2 JWT-bearer grant: verify the assertion, answer an access token."""
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return 400, {
                "error": "unsupported_grant_type",
                "error_description": "Invalid grant_type",
            }
        try:
            email = verify_assertion(
                form.get("assertion", ""), self.service_account_public_keys, self.token_url
            )
        except _GrantRefused as refused:
            return 400, {"error": "invalid_grant", "error_description": str(refused)}
        token = self.issue_token(email)
        return 200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}


def _masked(response: JSON, mask: str) -> JSON:
    try:
        tree = parse_field_mask(mask)
    except ValueError:
        raise FakeApiError(400, f"Invalid field selection {mask}") from None
    masked = apply_field_mask(response, tree)
    for sheet in masked.get("sheets", []):
        for block in sheet.get("data", []):
            _trim_row_data(block)
    return masked


def _trim_row_data(block: JSON) -> None:
    """After masking, cells with no selected field are {}; trim them as Google does."""
    if "rowData" not in block:
        return
    rows = []
    for row in block["rowData"]:
        cells = trim_trailing(row.get("values", []), lambda c: c == {})
        rows.append({"values": cells} if cells else {})
    rows = trim_trailing(rows, lambda r: r == {})
    if rows:
        block["rowData"] = rows
    else:
        del block["rowData"]


# --- responses ------------------------------------------------------------------------------


def _sheet_properties(sheet: FakeWorksheet, index: int) -> JSON:
    return {
        "sheetId": sheet.sheet_id,
        "title": sheet.title,
        "index": index,
        "sheetType": "GRID",
        "gridProperties": {"rowCount": sheet.grid_rows, "columnCount": sheet.grid_columns},
    }


def _resolve(book: _Spreadsheet, text: str) -> tuple[FakeWorksheet, A1Range]:
    try:
        rng = parse_a1(text)
    except ValueError:
        raise FakeApiError(400, f"Unable to parse range: {text}") from None
    if rng.title is None:
        return book.worksheets[0], rng
    for sheet in book.worksheets:
        if sheet.title == rng.title:
            return sheet, rng
    raise FakeApiError(400, f"Unable to parse range: {text}")


def _clip(sheet: FakeWorksheet, rng: A1Range, text: str) -> tuple[int, int, int, int]:
    """The range's rows and columns inside the grid, or 400 when it starts outside it."""
    if rng.start_row >= sheet.grid_rows or rng.start_col >= sheet.grid_columns:
        raise FakeApiError(
            400,
            f"Range ({text}) exceeds grid limits. Max rows: {sheet.grid_rows}, "
            f"max columns: {sheet.grid_columns}",
        )
    end_row = sheet.grid_rows - 1 if rng.end_row is None else min(rng.end_row, sheet.grid_rows - 1)
    end_col = (
        sheet.grid_columns - 1 if rng.end_col is None else min(rng.end_col, sheet.grid_columns - 1)
    )
    return rng.start_row, rng.start_col, end_row, end_col


def _a1_text(sheet: FakeWorksheet, r0: int, c0: int, r1: int, c1: int) -> str:
    first, last = f"{column_letters(c0)}{r0 + 1}", f"{column_letters(c1)}{r1 + 1}"
    return f"{quote_sheet_title(sheet.title)}!{first}:{last}"


def _option(query: dict[str, list[str]], name: str, default: str, allowed: set[str]) -> str:
    value = query.get(name, [default])[0]
    if value not in allowed:
        raise FakeApiError(400, f"Invalid value at '{name}' (TYPE_ENUM), \"{value}\"")
    return value


def _value_range(book: _Spreadsheet, text: str, query: dict[str, list[str]]) -> JSON:
    """A ValueRange: ragged rows, trailing empty cells and rows omitted, `values` absent if none."""
    render = _option(
        query,
        "valueRenderOption",
        "FORMATTED_VALUE",
        {"FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA"},
    )
    _option(query, "dateTimeRenderOption", "SERIAL_NUMBER", {"SERIAL_NUMBER", "FORMATTED_STRING"})
    major = _option(query, "majorDimension", "ROWS", {"ROWS", "COLUMNS"})
    sheet, rng = _resolve(book, text)
    r0, c0, r1, c1 = _clip(sheet, rng, text)
    render_cell = formatted if render == "FORMATTED_VALUE" else unformatted
    grid = [[sheet.cell(r, c) for c in range(c0, c1 + 1)] for r in range(r0, r1 + 1)]
    if major == "COLUMNS":
        grid = [list(col) for col in zip(*grid, strict=True)] if grid else []
    rows = [
        ["" if v is None else render_cell(v) for v in trim_trailing(row, _is_empty_value)]
        for row in grid
    ]
    rows = trim_trailing(rows, lambda r: not r)
    result: JSON = {"range": _a1_text(sheet, r0, c0, r1, c1), "majorDimension": major}
    if rows:
        result["values"] = rows
    return result


def _grid_data(sheet: FakeWorksheet, r0: int, c0: int, r1: int, c1: int) -> JSON:
    """One GridData block; startRow/startColumn omitted when 0, as Google does."""
    rows = []
    for r in range(r0, r1 + 1):
        cells = trim_trailing([cell_data(sheet, r, c) for c in range(c0, c1 + 1)], lambda x: not x)
        rows.append({"values": cells} if cells else {})
    rows = trim_trailing(rows, lambda x: not x)
    block: JSON = {}
    if r0:
        block["startRow"] = r0
    if c0:
        block["startColumn"] = c0
    if rows:
        block["rowData"] = rows
    block["rowMetadata"] = [{"pixelSize": 21} for _ in range(r0, r1 + 1)]
    block["columnMetadata"] = [{"pixelSize": 100} for _ in range(c0, c1 + 1)]
    return block


def spreadsheet_response(book: _Spreadsheet, query: dict[str, list[str]]) -> JSON:
    """A Spreadsheet resource; `ranges` filters the sheets, `includeGridData` adds data."""
    with_data = query.get("includeGridData", ["false"])[0].lower() == "true"
    ranges = query.get("ranges", [])
    blocks: dict[int, list[JSON]] = {}
    for text in ranges:
        sheet, rng = _resolve(book, text)
        block = _grid_data(sheet, *_clip(sheet, rng, text))
        blocks.setdefault(id(sheet), []).append(block)
    sheets = []
    for index, sheet in enumerate(book.worksheets):
        if ranges and id(sheet) not in blocks:
            continue
        entry: JSON = {"properties": _sheet_properties(sheet, index)}
        if with_data:
            entry["data"] = blocks.get(id(sheet)) or [
                _grid_data(sheet, 0, 0, sheet.grid_rows - 1, sheet.grid_columns - 1)
            ]
        sheets.append(entry)
    return {
        "spreadsheetId": book.key,
        "properties": {
            "title": book.title,
            "locale": "en_US",
            "autoRecalc": "ON_CHANGE",
            "timeZone": "Etc/GMT",
        },
        "sheets": sheets,
        "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{book.key}/edit",
    }


# --- OAuth2 ---------------------------------------------------------------------------------


class _GrantRefused(Exception):
    pass


def verify_assertion(assertion: str, public_keys: dict[str, str], token_url: str) -> str:
    """Check a service account's RS256 JWT assertion; return its email (the `iss`)."""
    import jwt

    try:
        unverified = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise _GrantRefused("Invalid JWT: malformed assertion.") from None
    email = str(unverified.get("iss") or "")
    pem = public_keys.get(email)
    if not pem:
        raise _GrantRefused("Invalid grant: account not found")
    try:
        claims = jwt.decode(
            # google-auth always names Google's own endpoint as the audience, wherever it posts.
            assertion,
            pem,
            algorithms=["RS256"],
            audience=[token_url, GOOGLE_TOKEN_URL],
            leeway=300,
            options={"require": ["iss", "aud", "exp", "iat"]},
        )
    except jwt.InvalidSignatureError:
        raise _GrantRefused("Invalid JWT Signature.") from None
    except jwt.ExpiredSignatureError:
        raise _GrantRefused("Invalid JWT: Token must be a short-lived token.") from None
    except jwt.InvalidAudienceError:
        raise _GrantRefused("Invalid JWT: Failed audience check.") from None
    except jwt.PyJWTError as error:
        raise _GrantRefused(f"Invalid JWT: {type(error).__name__}.") from None
    if claims["exp"] - claims["iat"] > 3600 + 300:
        raise _GrantRefused("Invalid JWT: Token must be a short-lived token (60 minutes).")
    return email


@lru_cache(maxsize=4)
def _rsa_key_pair(slot: int) -> tuple[str, str]:
    """(private PEM, public PEM); one per slot per process, since generation is slow."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def make_service_account(
    server: FakeSheetsServer,
    email: str = "sync@test-project.iam.gserviceaccount.com",
    *,
    key_slot: int = 0,
) -> dict[str, Any]:
    """Register a service account with the fake and return its JSON key file as a dict.

    `key_slot` picks another cached key pair (e.g. 1 for a second, different key).
    """
    private_pem, public_pem = _rsa_key_pair(key_slot)
    server.register_service_account(email, public_pem)
    return {
        "type": "service_account",
        "project_id": email.split("@", 1)[-1].split(".", 1)[0],
        "private_key_id": f"fake-key-{key_slot}",
        "private_key": private_pem,
        "client_email": email,
        "client_id": "100000000000000000000",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": server.token_url,
        "universe_domain": "googleapis.com",
    }


def other_private_key(slot: int = 1) -> str:
    """A private key PEM that no service account registered under slot 0 will accept."""
    return _rsa_key_pair(slot)[0]


# --- HTTP plumbing --------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30  # idle keep-alive connections give up their thread

    server_version = "ESF"
    sys_version = ""

    @property
    def fake(self) -> FakeSheetsServer:
        return self.server.fake  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # quiet: tests read request_log instead

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        raw_path, _, raw_query = self.path.partition("?")
        query = parse_qs(raw_query, keep_blank_values=True)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fake = self.fake
        fake._record(method, unquote(raw_path), query)
        fault = fake._take_fault(unquote(raw_path), unquote(raw_query))
        fake._sleep(fake.latency)
        if fault and fault.kind == "reset":
            self.close_connection = True
            return
        if fault and fault.kind == "slow":
            fake._sleep(fault.delay)
        if fault and fault.kind == "huge":
            self._write_huge(fault.size, fault.declare_length)
            return
        if fault and isinstance(fault.kind, int):
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
            if fault.location:
                headers["Location"] = fault.location
            status, payload, headers = fault.kind, FakeApiError(fault.kind).body(), headers
        else:
            status, payload, headers = self._answer(method, raw_path, query, body)
        if fault and fault.kind == "answer":
            answer = fault.answer
            status, payload = 200, answer(payload) if callable(answer) else dict(answer or {})
        compact = query.get("prettyPrint", ["true"])[0].lower() == "false"
        text = json.dumps(
            payload, **({"separators": (",", ":")} if compact else {"indent": 2})
        ).encode()
        if fault and fault.kind == "malformed":
            text = text[: max(1, len(text) // 2)] + b"<html>"
        self._write(
            status,
            text,
            headers,
            truncate=bool(fault and fault.kind == "truncated"),
            trickle=fault.delay if fault and fault.kind == "trickle" else None,
        )

    def _answer(self, method: str, raw_path: str, query, body: bytes) -> tuple[int, JSON, dict]:
        fake = self.fake
        if raw_path == "/token" and method == "POST":
            status, payload = fake.handle_token(body)
            return status, payload, {}
        try:
            return 200, fake.handle_api(method, raw_path, query, self.headers), {}
        except FakeApiError as error:
            return error.code, error.body(), error.headers
        except Exception as error:  # noqa: BLE001 - a bug in the fake should still answer like a server
            return 500, FakeApiError(500, f"fake server error: {error!r}").body(), {}

    def _write(
        self,
        status: int,
        text: bytes,
        headers: dict,
        truncate: bool,
        trickle: float | None = None,
    ) -> None:
        with self.fake._lock:
            self.fake.status_counts[status] += 1
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(text) + (1000 if truncate else 0)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if trickle is not None:
                self._trickle(text, trickle)
            else:
                self.wfile.write(text[: len(text) // 2] if truncate else text)
            self.wfile.flush()
        except OSError:
            pass  # the client gave up (e.g. its timeout fired during a "slow" fault)
        if truncate or trickle is not None:
            self.close_connection = True

    def _trickle(self, text: bytes, every: float) -> None:
        """One byte every `every` seconds, until done, the client leaves or the fake stops."""
        for i in range(len(text)):
            self.wfile.write(text[i : i + 1])
            self.wfile.flush()
            if self.fake._stopping.wait(every):
                return

    def _write_huge(self, size: int, declare_length: bool) -> None:
        """A 200 body of `size` bytes (spaces inside a JSON object), written as it goes."""
        with self.fake._lock:
            self.fake.status_counts[200] += 1
        piece = b" " * 65536
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            if declare_length:
                self.send_header("Content-Length", str(size))
            else:
                self.send_header("Connection", "close")  # the body ends when the socket does
            self.end_headers()
            sent = 0
            while sent < size and not self.fake._stopping.is_set():
                part = piece[: min(len(piece), size - sent)]
                self.wfile.write(part)
                sent += len(part)
            with self.fake._lock:
                self.fake.huge_bytes_sent += sent
        except OSError:
            pass  # the client stopped reading, as it should
        self.close_connection = True
