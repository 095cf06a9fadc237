"""Database engines and sessions, SQLite pragmas, and migrations applied on first use.

SQLite gets two engines over one file: readers begin deferred transactions, which WAL never
blocks, while writers begin `IMMEDIATE` so they queue on the busy timeout up front instead of
failing mid-transaction when a read lock cannot be upgraded. PostgreSQL uses one engine.

On PostgreSQL, which several hosts share, heartbeats are written and judged by the server's
clock (`Database.now`), so no host compares its own clock with another's. A sync frozen
inside a transaction must not hold up the next one with its locks: a sync's write transactions
carry a shared advisory lock naming the sync, by which whoever retires it ends their sessions
(`end_sessions_of`); and every write transaction bounds how long it waits on a lock or sits
idle (`write_timeout`), for whatever that misses.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    CursorResult,
    DateTime,
    Engine,
    Executable,
    Result,
    create_engine,
    event,
    func,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from .config import Settings, resolve_sqlite_path
from .errors import ConfigurationError
from .status import utcnow

MIGRATIONS = Path(__file__).with_name("migrations")
SUPPORTED_URLS = "sqlite:///path/to/catalog.db or postgresql://user@host/dbname"
SQLITE_BUSY_TIMEOUT_MS = 30_000
DEFAULT_WRITE_TIMEOUT = 30.0  # seconds; CatalogSync passes the heartbeat timeout
_MIGRATION_LOCK_ID = 0x5_1C_C0_2E  # arbitrary constant for pg_advisory_lock
_migrated: set[str] = set()
_migrated_lock = threading.Lock()


def normalize_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever driver the URL names (or none)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() != "psycopg":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _sqlite_engine(url: str, *, immediate: bool) -> Engine:
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


# PostgreSQL: bounds for a write transaction, and for a sync's, a shared advisory lock keyed on
# (this schema, the sync's id): pg_locks then shows which sessions write for a sync.
_BOUNDS = (
    "set_config('lock_timeout', :ms, true), "
    "set_config('idle_in_transaction_session_timeout', :ms, true)"
)
_BOUNDED = text(f"SELECT {_BOUNDS}")
_BOUNDED_FOR_SYNC = text(
    f"SELECT {_BOUNDS}, "
    "pg_advisory_xact_lock_shared(hashtext(current_schema()), CAST(:sync_id AS integer))"
)
_END_SYNC_SESSIONS = text(
    "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND classid = hashtext(current_schema())::oid AND objid = CAST(:sync_id AS oid) "
    "AND objsubid = 2 AND pid <> pg_backend_pid()"
)


def clock_now(is_sqlite: bool) -> ColumnElement[datetime] | datetime:
    """Naive UTC from the database server's clock on PostgreSQL (an expression the server
    evaluates, per statement); on SQLite, whose file belongs to one host, that host's clock."""
    if is_sqlite:
        return utcnow()
    return func.timezone("utc", func.statement_timestamp(), type_=DateTime())


def session_now(s: Session) -> ColumnElement[datetime] | datetime:
    """`clock_now` for the database session `s` is bound to."""
    return clock_now(s.get_bind().dialect.name == "sqlite")


class Database:
    """Engines and session factories for one database URL; migrated on construction.

    `write_timeout` (seconds, PostgreSQL): the longest a write transaction waits for a lock
    (`lock_timeout`) or stays open idle between statements (`idle_in_transaction_session_
    timeout`; the server then ends the session, releasing its locks).
    """

    def __init__(self, url: str, *, write_timeout: float = DEFAULT_WRITE_TIMEOUT):
        try:
            self.url = normalize_url(url)
            backend = make_url(self.url).get_backend_name()
        except Exception as exc:
            raise ConfigurationError(
                "SYNCCORE_DATABASE_URL is not a valid database URL; expected e.g. "
                "sqlite:///catalog.db or postgresql://user@host/dbname."
            ) from exc
        self.is_sqlite = backend == "sqlite"
        self._timeout_ms = str(max(1, round(write_timeout * 1000)))
        if self.is_sqlite:
            database = make_url(self.url).database
            if database and database != ":memory:":
                _make_folder(Path(database).parent)
            self.read_engine = _sqlite_engine(self.url, immediate=False)
            self.write_engine = _sqlite_engine(self.url, immediate=True)
        else:
            try:
                self.read_engine = self.write_engine = create_engine(
                    self.url, pool_pre_ping=True, pool_size=5, max_overflow=10
                )
            except (ImportError, NoSuchModuleError) as exc:
                raise ConfigurationError(_driver_problem(backend, exc)) from None
        self._read = sessionmaker(self.read_engine, expire_on_commit=False)
        self._write = sessionmaker(self.write_engine, expire_on_commit=False)
        migrate(self)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read session; never blocked by a running sync."""
        with self._read() as s:
            yield s

    @contextmanager
    def write(self, *, sync_id: int | None = None) -> Iterator[Session]:
        """A write transaction, committed on success and rolled back on any error.

        `sync_id`: the transaction writes the catalog for that sync (see `end_sessions_of`).
        """
        with self._write() as s, s.begin():
            if not self.is_sqlite:
                s.execute(
                    _BOUNDED if sync_id is None else _BOUNDED_FOR_SYNC,
                    {"ms": self._timeout_ms, "sync_id": sync_id},
                )
            yield s

    def end_sessions_of(self, sync_id: int) -> int:
        """End (pg_terminate_backend) the sessions inside a write transaction for a sync that
        was retired, so the locks they hold are released now; return how many. SQLite: 0 (a
        frozen writer holds the file's lock until the busy timeout of the others)."""
        if self.is_sqlite:
            return 0
        with self.session() as s:
            ended = s.execute(_END_SYNC_SESSIONS, {"sync_id": sync_id}).all()
            s.commit()
        return len(ended)

    def now(self) -> ColumnElement[datetime] | datetime:
        """The time heartbeats are written with and judged by (see `clock_now`)."""
        return clock_now(self.is_sqlite)

    def server_time(self, s: Session) -> datetime:
        """`now()` as a value, read in session `s` (one round trip on PostgreSQL)."""
        value = self.now()
        if isinstance(value, datetime):
            return value
        server: datetime = s.execute(select(value)).scalar_one()
        return server

    def dispose(self) -> None:
        self.read_engine.dispose()
        if self.write_engine is not self.read_engine:
            self.write_engine.dispose()


def _make_folder(folder: Path) -> None:
    """Create the SQLite file's folder, or say in a sentence why it cannot be."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ConfigurationError(
            f"The SQLite database's folder {folder} cannot be created: a file of that name (or "
            "of one of its parent folders) is in the way. Fix the path in SYNCCORE_DATABASE_URL."
        ) from None
    except OSError as exc:
        raise ConfigurationError(
            f"The SQLite database's folder {folder} cannot be created "
            f"({exc.strerror or type(exc).__name__}). Fix the path in SYNCCORE_DATABASE_URL or "
            "create the folder."
        ) from None


def _driver_problem(backend: str, exc: Exception) -> str:
    if isinstance(exc, NoSuchModuleError):
        return (
            f"SYNCCORE_DATABASE_URL names a database Catalog Sync does not support ({backend}). "
            f"Use {SUPPORTED_URLS}."
        )
    return (
        f"SYNCCORE_DATABASE_URL names a {backend} database, whose driver is not installed. "
        f"Catalog Sync supports {SUPPORTED_URLS}."
    )


def sqlite_access_problem(database_url: str) -> str | None:
    """Which file or folder of a SQLite database this process cannot write, in a sentence;
    None for other databases or when nothing is in the way. SQLite writes the database file
    and, beside it, its -wal and -shm files and our migration lock file."""
    try:
        path = resolve_sqlite_path(database_url)
    except Exception:  # noqa: BLE001 - an unparseable URL is reported elsewhere
        return None
    if path is None:
        return None
    path = path.absolute()
    fix = "Make it writable by the user running Catalog Sync or change SYNCCORE_DATABASE_URL."
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if file.exists() and not os.access(file, os.R_OK | os.W_OK):
            return f"The SQLite file {file} cannot be written. {fix}"
    folder = path.parent
    if not folder.is_dir():
        return f"The SQLite database's folder {folder} does not exist. {fix}"
    if not os.access(folder, os.W_OK | os.X_OK):
        return (
            f"The folder {folder} cannot be written, and SQLite needs to create files there "
            f"(the database's -wal and -shm files). {fix}"
        )
    return None


def database_failure(exc: Exception, settings: Settings) -> str:
    """A database failure in one line for a person (terminal or page): for SQLite, the file
    or folder that cannot be written; otherwise the failure's kind and the URL with its
    password hidden, never the driver's text, which can quote the connection string."""
    problem = sqlite_access_problem(settings.database_url)
    if problem:
        return problem
    if settings.database_url.lower().startswith("sqlite"):
        return (
            f"The SQLite database {settings.describe_database()} could not be used "
            f"({type(exc).__name__}: {_sqlite_reason(exc)}). Check that SYNCCORE_DATABASE_URL "
            "points at a Catalog Sync database file."
        )
    return (
        f"The catalog database did not answer ({type(exc).__name__}). Check "
        f"SYNCCORE_DATABASE_URL ({settings.describe_database()}) and that the database "
        "server is running."
    )


def _sqlite_reason(exc: Exception) -> str:
    """SQLite's own words ("database is locked", "file is not a database"): they name no
    secret, as a SQLite URL carries no password."""
    orig = getattr(exc, "orig", None) or exc
    text = getattr(orig, "strerror", None) or str(orig).strip()
    return text.splitlines()[0][:200] if text else "no details"


def rows_changed(s, statement: Executable) -> int:
    """How many rows an UPDATE or DELETE changed (its cursor's rowcount)."""
    return changed_count(s.execute(statement))


def changed_count(result: Result) -> int:
    """The rowcount of an executed UPDATE or DELETE (typed: `execute` returns a Result)."""
    assert isinstance(result, CursorResult)
    return result.rowcount


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(db: Database) -> None:
    """Bring the schema to the latest migration, once per process and URL.

    Concurrent first users (threads, processes, hosts) serialise on a lock: a file lock next
    to a SQLite database, an advisory lock on PostgreSQL.
    """
    with _migrated_lock:
        if db.url in _migrated:
            return
        cfg = _alembic_config()
        head = ScriptDirectory.from_config(cfg).get_current_head()
        if _current_revision(db.read_engine) != head:
            if db.is_sqlite:
                _migrate_sqlite(db, cfg)
            else:
                _migrate_postgres(db, cfg)
        _migrated.add(db.url)


def _migrate_sqlite(db: Database, cfg: Config) -> None:
    database = make_url(db.url).database
    lock_path = Path(f"{database}.migrate-lock") if database not in (None, ":memory:") else None
    lock_file = open(lock_path, "a+") if lock_path else None  # noqa: SIM115
    try:
        if lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
        with db.write_engine.connect() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    finally:
        if lock_file:
            lock_file.close()


def _migrate_postgres(db: Database, cfg: Config) -> None:
    with db.write_engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
        try:
            conn.commit()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            conn.commit()
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": _MIGRATION_LOCK_ID})
            conn.commit()
