"""The Sheets API stand-in served over real HTTP on 127.0.0.1: routing, auth, the read quota and
scripted faults (see the package docstring)."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, unquote

from .errors import JSON, FakeApiError
from .masks import masked
from .oauth import GrantRefused, verify_assertion
from .responses import spreadsheet_response, value_range
from .workbook import FakeWorksheet, Spreadsheet


def _later_than(previous: str) -> str:
    """Now as Drive writes a modifiedTime, strictly after `previous` (same format)."""
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    if previous:
        floor = datetime.strptime(previous, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        now = max(now, floor + timedelta(milliseconds=1))
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


_NAMED_FAULTS = {"slow", "malformed", "truncated", "reset", "trickle", "huge", "answer"}


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
        if self.path_contains is None:  # the Sheets API's requests, not tokens or Drive's
            return not path.startswith(("/token", "/drive/"))
        return self.path_contains in path


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
        drive_enabled: bool = True,
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
        self.drive_enabled = drive_enabled  # False: Drive answers 403 (API not enabled)
        self.drive_requests = 0  # Drive files.get requests answered (not Sheets reads)
        self.request_log: list[tuple[str, str, dict[str, list[str]]]] = []
        self.status_counts: Counter[int] = Counter()
        self.read_requests = 0
        self.tokens_issued = 0
        self.huge_bytes_sent = 0  # bytes of "huge" bodies written whole (a capped reader stops)
        self._host, self._port = host, port
        self._lock = threading.Lock()
        self._spreadsheets: dict[str, Spreadsheet] = {}
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

    def start(self) -> Self:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        httpd = ThreadingHTTPServer((self._host, self._port), RequestHandler)
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

    def __enter__(self) -> Self:
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
        `public=False` makes API-key (anonymous) reads answer 403. Each call is an edit: Drive's
        `modifiedTime` for it moves on (by at least a millisecond)."""
        with self._lock:
            previous = self._spreadsheets.get(key)
            modified = _later_than(previous.modified_time if previous else "")
            self._spreadsheets[key] = Spreadsheet(
                key, title, list(worksheets), shared_with, public, modified
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

    def set_read_quota(self, per_minute: int | None) -> None:
        """Change the read quota and start its window afresh."""
        with self._lock:
            self.read_quota_per_minute = per_minute
            self._reads.clear()

    # hooks for a server that answers some reads faster (the bench's pre-rendered sheets)

    def authorize_read(self, key: str, query: dict[str, list[str]], headers) -> Spreadsheet:
        """Authenticate a read, count it against the quota and return the spreadsheet it may
        read; raises FakeApiError as the API would answer."""
        email = self._authenticate(query, headers)
        self._count_read()
        return self._spreadsheet(key, email)

    def quick_answer(
        self, method: str, raw_path: str, query: dict[str, list[str]], headers
    ) -> tuple[int, bytes] | None:
        """(status, JSON body) for a request served before the generic path (no faults, no
        latency), or None for the generic path; a subclass overrides it."""
        return None

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

    def _spreadsheet(self, key: str, email: str | None) -> Spreadsheet:
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
        """Route one Sheets API (or Drive `files.get`) request to its JSON answer, or raise
        FakeApiError."""
        segments = [unquote(s) for s in raw_path.split("/")]
        if method == "GET" and len(segments) == 5 and segments[1:4] == ["drive", "v3", "files"]:
            return self._drive_file(segments[4], query, headers)
        if method != "GET" or len(segments) < 4 or segments[1:3] != ["v4", "spreadsheets"]:
            raise FakeApiError(404, f"Method not found: {method} {raw_path}")
        email = self._authenticate(query, headers)
        self._count_read()
        book = self._spreadsheet(segments[3], email)
        rest = segments[4:]
        if not rest:
            response = spreadsheet_response(book, query)
        elif rest == ["values:batchGet"]:
            ranges = [value_range(book, r, query) for r in query.get("ranges", [])]
            response = {"spreadsheetId": book.key, "valueRanges": ranges}
        else:
            raise FakeApiError(404, f"Method not found: {method} {raw_path}")
        if "fields" in query:
            response = masked(response, query["fields"][0])
        return response

    def _drive_file(self, key: str, query: dict[str, list[str]], headers) -> JSON:
        """Drive v3 `files.get` metadata: id, name, mimeType, modifiedTime (masked by
        `fields`, as Drive does). Not a Sheets read: it has its own counter and no quota."""
        if not self.drive_enabled:
            raise FakeApiError(
                403,
                "Google Drive API has not been used in project 0 before or it is disabled. "
                "Enable it by visiting the Google Cloud console, then retry.",
            )
        email = self._authenticate(query, headers)
        book = self._spreadsheet(key, email)
        with self._lock:
            self.drive_requests += 1
        response = {
            "kind": "drive#file",
            "id": book.key,
            "name": book.title,
            "mimeType": "application/vnd.google-apps.spreadsheet",
            "modifiedTime": book.modified_time,
        }
        if "fields" in query:
            response = masked(response, query["fields"][0])
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
        except GrantRefused as refused:
            return 400, {"error": "invalid_grant", "error_description": str(refused)}
        token = self.issue_token(email)
        return 200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}


class RequestHandler(BaseHTTPRequestHandler):
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
        quick = fake.quick_answer(method, raw_path, query, self.headers)
        fake._record(method, unquote(raw_path), query)
        if quick is not None:
            self._write(quick[0], quick[1], {}, truncate=False)
            return
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
