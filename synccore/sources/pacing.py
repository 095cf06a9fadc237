"""Pacing and retry arithmetic for the Sheets API, kept pure so it can be tested without waiting.

- `ReadQuota`: a sliding one-minute window of read requests, so a sync waits its turn instead
  of tripping Google's 60-reads-per-minute quota (gspread has no such pacing).
- `backoff_delay`: exponential backoff with jitter, honouring Retry-After.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable

BACKOFF_CAP_SECONDS = 32.0


class ReadQuota:
    """At most `per_minute` reads in any `window` seconds; `reserve()` says how long to wait.

    The window is kept 5% longer than Google's, since Google counts a request when it arrives,
    a little after we send it."""

    def __init__(
        self, per_minute: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ):
        self.per_minute, self.window, self.clock = max(1, per_minute), window * 1.05, clock
        self._reads: deque[float] = deque()
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take a slot now and return 0, or return the seconds until one frees (taking none)."""
        with self._lock:
            now = self.clock()
            while self._reads and self._reads[0] <= now - self.window:
                self._reads.popleft()
            if len(self._reads) < self.per_minute:
                self._reads.append(now)
                return 0.0
            return self._reads[0] + self.window - now


_quotas: dict[tuple[str, str, int], ReadQuota] = {}
_quotas_lock = threading.Lock()


def shared_quota(api_url: str, identity: str, per_minute: int) -> ReadQuota:
    """One window per API endpoint and identity in this process: Google counts per user, so
    consecutive syncs (and the benchmark's repeated runs) share it."""
    key = (api_url, identity, per_minute)
    with _quotas_lock:
        quota = _quotas.get(key)
        if quota is None:
            quota = _quotas[key] = ReadQuota(per_minute)
        return quota


def backoff_delay(
    attempt: int,
    retry_after: float | None = None,
    *,
    base: float = 1.0,
    cap: float = BACKOFF_CAP_SECONDS,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before retry number `attempt` (1-based): half of base * 2^(attempt-1),
    plus up to as much again at random, so clients that failed together do not retry together.
    A server's Retry-After is a floor."""
    step = min(cap, base * 2 ** (attempt - 1))
    delay = step / 2 + (rng or random).uniform(0, step / 2)
    return max(delay, retry_after or 0.0)
