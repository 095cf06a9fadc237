"""Polling with a deadline, so no test sleeps blindly or waits forever."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import cast

from synccore import CatalogSync, OperationStatus


def wait_for(
    condition: Callable[[], object], timeout: float, what: str, every: float = 0.02
) -> object:
    """Poll until `condition()` is truthy; fail the test saying `what` did not happen."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)


def wait_until_idle(sync: CatalogSync, timeout: float = 60.0) -> OperationStatus:
    """Wait for the active sync (started by a callback thread or another process) to end."""

    def ended() -> OperationStatus | None:
        status = sync.current_status()
        return status if status is not None and not status.is_active else None

    return cast(OperationStatus, wait_for(ended, timeout, "the sync to end", every=0.05))
