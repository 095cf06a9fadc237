"""A process that presses Sync from several threads at once, round after round.

Run as `python -m tests.support.trigger DATABASE_URL API_URL THREADS`. For each line
`<round> <start epoch>` on stdin it waits until the start time, lets THREADS threads call
`CatalogSync.run_sync` together (the command line's path: a winner runs the whole sync in its
thread), and prints one JSON line: `[["ran", op_id, status] | ["busy", message], ...]`.
"""

from __future__ import annotations

import json
import sys
import threading
import time


def main() -> None:
    from synccore import CatalogSync, SyncAlreadyRunning

    from .sheets import api_settings

    database_url, api_url, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    sync = CatalogSync(api_settings(api_url, database_url))
    print("ready", flush=True)
    for line in sys.stdin:
        round_no, start = line.split()
        results: list[list] = []
        lock = threading.Lock()

        def trigger(
            i: int,
            start: float = float(start),
            round_no: str = round_no,
            lock=lock,
            results=results,
        ) -> None:
            while time.time() < start:
                time.sleep(0.0005)
            try:
                status = sync.run_sync(f"process trigger {round_no}.{i}")
                outcome = ["ran", status.id, status.status.value]
            except SyncAlreadyRunning as exc:
                outcome = ["busy", str(exc)]
            except Exception as exc:  # noqa: BLE001 - reported to the test, which fails
                outcome = ["error", f"{type(exc).__name__}: {exc}"]
            with lock:
                results.append(outcome)

        workers = [threading.Thread(target=trigger, args=(i,)) for i in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        print(json.dumps(results), flush=True)
    sync.close()


if __name__ == "__main__":
    main()
