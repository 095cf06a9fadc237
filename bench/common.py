"""What every scenario shares: throwaway databases, settings for the fake sheet, figures.

A scenario is a function `run(ctx) -> list[Figure]`; `Context` carries the run's options and
the sheet server (in its own process, so its CPU time and memory are not the sync's).
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .sheets import ALBUM_TABS

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO / "bench" / "results"
POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
API_KEY = "catalog-sync-bench-api-key"


@dataclass
class Figure:
    """One line of the table: a measured value beside its baseline from the same run."""

    scenario: str
    figure: str
    value: float | None
    unit: str
    db: str = ""
    baseline: str = ""  # what the value is compared with
    baseline_value: float | None = None
    ratio: float | None = None  # value / baseline_value unless said otherwise
    ratio_text: str = ""  # e.g. "64x faster"
    target: str = ""
    holds: bool | None = None  # None: no target, or not measurable in this run
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def speedup(figure: Figure, fast: float, slow: float, *, target: float | None = None) -> Figure:
    """Fill the ratio as "N times faster" (slow / fast)."""
    if fast and slow:
        figure.ratio = slow / fast
        figure.ratio_text = f"{figure.ratio:,.1f}x faster"
        if target is not None:
            figure.holds = figure.ratio >= target
    return figure


def slowdown(
    figure: Figure, value: float, baseline: float, *, target: float | None = None
) -> Figure:
    """Fill the ratio as "N times the baseline" (value / baseline)."""
    if value is not None and baseline:
        figure.ratio = value / baseline
        figure.ratio_text = f"{figure.ratio:,.2f}x"
        if target is not None:
            figure.holds = figure.ratio <= target
    return figure


@dataclass
class Options:
    quick: bool = False
    dbs: tuple[str, ...] = ("sqlite", "postgres")
    only: tuple[str, ...] = ()
    workdir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()))


@dataclass(frozen=True)
class Sizes:
    """Sheet sizes (albums) per scenario; --quick scales them down."""

    small: int  # throughput and the per-row ORM baseline
    large: int  # throughput, nothing changed, dashboard cost, first feedback
    largest: int  # the largest sheet
    catalog: int  # albums in the database for the Catalog page

    @classmethod
    def for_options(cls, options: Options) -> Sizes:
        if options.quick:
            return cls(small=10_000, large=25_000, largest=250_000, catalog=250_000)
        return cls(small=10_000, large=100_000, largest=1_250_000, catalog=1_000_000)


@dataclass
class Context:
    """What a scenario gets: the options, the sizes, the sheet server, and shared results
    (a scenario may leave a database behind for a later one, e.g. the largest sheet's catalog)."""

    options: Options
    sizes: Sizes
    server: Any  # bench.sheet_server.SheetServerProcess
    shared: dict[str, Any] = field(default_factory=dict)
    stack: ExitStack = field(default_factory=ExitStack)

    def sheet(self, albums: int, *, edit_share: float = 0.0) -> dict[str, Any]:
        """{"key", "rows", "edited"} of a served sheet, built on first use (not timed)."""
        return self.server.sheet(albums, edit_share=edit_share)

    def keep(self, context) -> Any:
        """Enter a context (e.g. a database) that lives until the whole run ends."""
        return self.stack.enter_context(context)

    def sync(self, db: str, sheet: str, **spec: Any) -> dict[str, Any]:
        return run_worker("sync", db=db, server=self.server.url, sheet=sheet, **spec)


@contextmanager
def database(kind: str, workdir: Path, tag: str = "bench") -> Iterator[str]:
    """A fresh, empty database URL: a SQLite file, or a PostgreSQL schema dropped afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix=f"{tag}-", dir=workdir) as tmp:
            yield f"sqlite:///{tmp}/catalog.db"
        return
    import sqlalchemy as sa

    schema = f"bench_{tag}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def postgres_problem() -> str | None:
    """None when the PostgreSQL server answers, else why not."""
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
        return f"PostgreSQL not reachable ({type(exc).__name__})"


def sync_settings(database_url: str, server_url: str, sheet_key: str, **overrides: Any):
    """Settings for the real sync path: gspread over HTTP to the fake API, into `database_url`."""
    from synccore.config import Settings

    values: dict[str, Any] = dict(
        database_url=database_url,
        sheet=sheet_key,
        worksheet=ALBUM_TABS,
        sheets_api_url=server_url,
        api_key=API_KEY,
        heartbeat_timeout=120.0,
    )
    values.update(overrides)
    return Settings(**values)


class Stopwatch:
    """`with Stopwatch() as t: ...; t.seconds`"""

    def __enter__(self) -> Stopwatch:
        self.start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: Any) -> None:
        self.seconds = time.perf_counter() - self.start


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile; `share` in [0, 1]."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))
    return ordered[index]


def peak_rss_mb_of(pid: int) -> float | None:
    """A live process's peak resident set (VmHWM) in MB, from /proc."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def machine_description() -> dict[str, Any]:
    memory_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
    except OSError:
        pass
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def start_worker(job: str, **spec: Any):
    """Start one bench.worker job in a fresh process; `finish_worker` collects its result."""
    import json
    import subprocess
    import sys

    return subprocess.Popen(
        [sys.executable, "-m", "bench.worker", json.dumps({"job": job, **spec})],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=str(REPO),
    )


def finish_worker(proc, timeout: float = 1800) -> dict[str, Any]:
    import json

    out, err = proc.communicate(timeout=timeout)
    for line in out.splitlines():
        if line.startswith("BENCH-RESULT "):
            return json.loads(line[len("BENCH-RESULT ") :])
    raise RuntimeError(f"bench worker failed (exit {proc.returncode}): {err.strip()[-2000:]}")


def run_worker(job: str, timeout: float = 1800, **spec: Any) -> dict[str, Any]:
    """Run one bench.worker job in a fresh process and return its JSON result."""
    return finish_worker(start_worker(job, **spec), timeout)
