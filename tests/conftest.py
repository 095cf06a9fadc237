"""Real databases for every test: a SQLite file per test, and a fresh PostgreSQL schema per test.

PostgreSQL is at SYNCCORE_TEST_POSTGRES_URL (default: 127.0.0.1:5432, database `test`, trust
auth). Outside CI its tests skip with the reason when no server answers; with CI=true they
must run, so an unreachable server fails the run instead of hiding.
"""

from __future__ import annotations

import csv
import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from synccore.db import normalize_url
from synccore.standin import FakeSheetsServer

# google-auth's Application Default Credentials probe the GCE metadata server (a link-local
# address) when nothing else is configured; tests must only talk to 127.0.0.1.
os.environ["NO_GCE_CHECK"] = "true"
os.environ.pop("GOOGLE_APPLICATION_CREDENTIALS", None)

POSTGRES_URL = os.environ.get(
    "SYNCCORE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
HEADER = ["Release Date", "Artist", "Album", "Genre", "Vocal Style", "Country", "Spotify"]


def _postgres_problem() -> str | None:
    try:
        engine = sa.create_engine(normalize_url(POSTGRES_URL), connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
        return f"PostgreSQL not reachable at {POSTGRES_URL}: {type(exc).__name__}"


@pytest.fixture(scope="session")
def postgres_server() -> str:
    problem = _postgres_problem()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{problem} (CI=true requires the PostgreSQL tests to run)")
        pytest.skip(problem)
    return POSTGRES_URL


@pytest.fixture
def postgres_url(postgres_server: str):
    """A URL whose search_path is a schema made for this test and dropped after it."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    # pre-ping: a test may restart the server between this CREATE and the DROP below
    admin = sa.create_engine(normalize_url(postgres_server), pool_pre_ping=True)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in postgres_server else "?"
    yield f"{postgres_server}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'catalog.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request) -> str:
    """Each test that takes this runs on a real SQLite file and on real PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return request.getfixturevalue(name)


def write_sheet_csv(path: Path, rows: list[list], header: list[str] = HEADER) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def album(n: int, **overrides) -> list:
    """A valid sheet row for album number n; override any column by its field name."""
    row = {
        "date": f"2025-03-{(n % 28) + 1:02d}",
        "artist": f"Artist {n}",
        "album": f"Album {n}",
        "genre": ["Death Metal", "Doom", "Post-Rock"][n % 3],
        "vocals": ["Harsh", "Clean", "Mixed"][n % 3],
        "country": ["Sweden", "Finland", "Japan"][n % 3],
        "spotify": "",
    }
    row.update(overrides)
    return [
        row["date"],
        row["artist"],
        row["album"],
        row["genre"],
        row["vocals"],
        row["country"],
        row["spotify"],
    ]


@pytest.fixture
def fake_sheets():
    """A fake Sheets API v4 on 127.0.0.1 for one test."""
    with FakeSheetsServer() as server:
        yield server
