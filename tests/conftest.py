"""Real databases for every test: a SQLite file per test, and a fresh PostgreSQL schema per test.

PostgreSQL is at SYNCCORE_TEST_POSTGRES_URL (default: 127.0.0.1:5432, database `test`, trust
auth). Outside CI its tests skip with the reason when no server answers; with CI=true they
must run, so an unreachable server fails the run instead of hiding.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from synccore import CatalogSync, load_settings
from synccore.db import normalize_url
from synccore.standin import FakeSheetsServer

from .support.albums import album, write_sheet_csv

# google-auth's Application Default Credentials probe the GCE metadata server (a link-local
# address) when nothing else is configured; tests must only talk to 127.0.0.1.
os.environ["NO_GCE_CHECK"] = "true"
os.environ.pop("GOOGLE_APPLICATION_CREDENTIALS", None)

POSTGRES_URL = os.environ.get(
    "SYNCCORE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


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


@pytest.fixture
def fake_sheets():
    """A fake Sheets API v4 on 127.0.0.1 for one test."""
    with FakeSheetsServer() as server:
        yield server


# -- the dashboard's AppTest tests --------------------------------------------------------------


@pytest.fixture
def sheet(tmp_path: Path) -> Path:
    """A CSV sheet of 12 albums; a module that needs another sheet overrides this fixture."""
    return write_sheet_csv(tmp_path / "sheet.csv", [album(n) for n in range(12)])


@pytest.fixture
def secrets(tmp_path: Path, sheet: Path) -> dict[str, str]:
    """The dashboard's settings (as st.secrets): `sheet` into a SQLite file."""
    return {
        "SYNCCORE_DATABASE_URL": f"sqlite:///{tmp_path / 'catalog.db'}",
        "SYNCCORE_SHEET": str(sheet),
    }


@pytest.fixture
def other(secrets: dict[str, str]):
    """Another tab, user or process on the same catalog, through synccore's real API."""
    sync = CatalogSync(load_settings(secrets, environ={}))
    yield sync
    sync.close()
