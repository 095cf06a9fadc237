"""Limits on every HTTP exchange with Google: a whole-request deadline, a size cap, no redirects.

`requests` alone bounds each socket read, not a request: a server trickling a byte a second
never times out, a 1 GB answer is read into memory, and a redirect is followed with the API
key or the signed token request. So:

- `LimitedAdapter`, mounted on the sessions, reads every body itself, streamed, and stops past
  `max_bytes` (`ResponseTooLarge`); a 3xx answer is refused, never followed (`RedirectRefused`).
- `within_deadline` runs one request in a worker thread and waits for it in short steps,
  checking the deadline and the caller's stop check between them. Past the deadline it raises
  `RequestDeadline` (a `requests.Timeout`, so the retry rules treat it as a timeout); a cancel or
  a stop ends the wait within `poll` seconds. Either way the request's socket is shut down, so
  the abandoned worker ends too (one still waiting for the first header byte ends at the socket
  timeout, which is never longer than the deadline).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from requests.adapters import HTTPAdapter

from ..errors import RedirectRefused, ResponseTooLarge

T = TypeVar("T")
READ_PIECE_BYTES = 64 * 1024

_worker = threading.local()  # .exchange: the _Exchange a worker thread is running


class RequestDeadline(requests.Timeout):
    """The whole request (connect, headers, body) took longer than its deadline."""


class _Exchange:
    """The responses one deadline-bound call has opened, so an abandoning waiter can shut
    their sockets from its own thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._responses: list[requests.Response] = []
        self.abandoned = False

    def opened(self, response: requests.Response) -> None:
        with self._lock:
            self._responses.append(response)
            abandoned = self.abandoned
        if abandoned:
            _shut(response)

    def abandon(self) -> None:
        with self._lock:
            self.abandoned = True
            responses = list(self._responses)
        for response in responses:
            _shut(response)


def _shut(response: requests.Response) -> None:
    """Wake a thread blocked reading this response: shutdown() interrupts a blocked recv,
    where close() from another thread may not."""
    connection = getattr(response.raw, "connection", None)
    sock = getattr(connection, "sock", None)
    try:
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


def within_deadline(
    call: Callable[[], T],
    seconds: float,
    check_stop: Callable[[], None],
    *,
    poll: float = 0.1,
) -> T:
    """`call()` (one HTTP request) finished within `seconds`, or `RequestDeadline`; whatever
    `check_stop` raises (a cancel, a shutdown) ends the wait within `poll` seconds."""
    exchange = _Exchange()
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def work() -> None:
        _worker.exchange = exchange
        try:
            outcome["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            outcome["error"] = exc
        finally:
            done.set()

    deadline = time.monotonic() + seconds
    threading.Thread(target=work, name="sheets-request", daemon=True).start()
    try:
        while not done.wait(max(0.0, min(poll, deadline - time.monotonic()))):
            check_stop()
            if time.monotonic() >= deadline:
                raise RequestDeadline(f"no complete answer within {seconds:g} s")
    except BaseException:
        exchange.abandon()
        raise
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


class LimitedAdapter(HTTPAdapter):
    """An adapter that refuses redirects and reads each body itself, capped at `max_bytes`.

    `service` names the other end in messages ("Google Sheets"); `check` says what to look at
    when a redirect comes back (the setting or file that names the endpoint).
    """

    def __init__(self, *, max_bytes: int, service: str, check: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.max_bytes, self.service, self.check = max_bytes, service, check

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        response = super().send(
            request, stream=True, timeout=timeout, verify=verify, cert=cert, proxies=proxies
        )
        exchange = getattr(_worker, "exchange", None)
        if exchange is not None:
            exchange.opened(response)
        if 300 <= response.status_code < 400:
            response.close()
            raise RedirectRefused(
                f"{self.service} answered HTTP {response.status_code}, a redirect to another "
                f"address. Google does not redirect these requests, so it was not followed and "
                f"no credentials were sent there. Check {self.check} and any proxy between this "
                "server and Google. The catalog was not changed."
            )
        # Loaded here, so `response.content` (requests, gspread, google-auth) reads nothing more.
        response._content = self._read_body(response)
        response._content_consumed = True
        return response

    def _read_body(self, response: requests.Response) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            response.close()
            raise self._too_large()
        pieces, size = [], 0
        for piece in response.iter_content(READ_PIECE_BYTES):
            size += len(piece)
            if size > self.max_bytes:  # counted after decompression: a gzip bomb stops here too
                response.close()
                raise self._too_large()
            pieces.append(piece)
        return b"".join(pieces)

    def _too_large(self) -> ResponseTooLarge:
        return ResponseTooLarge(
            f"{self.service} sent a response larger than {self.max_bytes / 1_000_000:g} MB, so "
            "reading stopped there: the sheet was not read and the catalog was not changed. The "
            f"sync asks for about 2 MB at a time; check {self.check} and any proxy between this "
            "server and Google."
        )


def mount_limited(session: requests.Session, adapter: LimitedAdapter) -> requests.Session:
    """Send every http(s) request of `session` through `adapter`."""
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
