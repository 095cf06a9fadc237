"""The change log and the preview, over real HTTP against the fake Sheets API with a tracker
tab edited between syncs: albums added, a genre changed, rows deleted, a removed album brought
back. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from synccore import CatalogSync, SyncStatus
from synccore.models import Album, AlbumChange
from synccore.operations import claim

from .support.sheets import api_env, api_settings, serve_tracker, sheet_api
from .support.tracker_edits import (
    GENRE_COLUMN,
    album_rows,
    delete_row,
    insert_row,
    one_year_tracker,
)


@pytest.fixture
def server():
    with sheet_api() as api:
        yield api


def genres(cell: object) -> list[str]:
    return [g.strip() for g in str(cell).split(",")]


def entries(sync: CatalogSync, op_id: int) -> set[tuple]:
    """(change, artist, title, fields as JSON) of a sync's log."""
    return {
        (c.change, c.artist, c.title, json.dumps(c.fields, sort_keys=True))
        for c in sync.changes(op_id)
    }


def catalog_rows(sync: CatalogSync) -> list[tuple]:
    with sync.db.session() as s:
        return [
            (a.id, a.key, a.content_hash, a.removed_at, a.updated_at, a.last_sync_id)
            for a in s.scalars(select(Album).order_by(Album.id))
        ]


class Edits:
    """The tab and the edits the test makes, with what each should log."""

    def __init__(self, server):
        self.server, self.tabs = server, one_year_tracker(30)
        self.tab = self.tabs[0]
        serve_tracker(server, self.tabs)

    def second_version(self) -> set[tuple]:
        """Change a genre, delete two rows, add two albums; return the expected log."""
        tab = self.tab
        rows = album_rows(tab)
        edited = tab.values[rows[3]]
        old = genres(edited[GENRE_COLUMN])
        new = [*old, "Zeuhl"]
        edited[GENRE_COLUMN] = f"{edited[GENRE_COLUMN]}, Zeuhl"
        self.gone = [tab.values[rows[i]][:2] for i in (7, 12)]
        self.deleted = delete_row(tab, rows[12])
        self.deleted_at = rows[12]
        delete_row(tab, rows[7])
        last = album_rows(tab)[-1] + 1
        added = [["Nova Collective", "Further Reflections", 45_000, "LP", "Jazz-fusion"]]
        added.append(["Vola", "Friend of a Phantom", 45_100, "LP", "Djent, Prog-metal"])
        for offset, row in enumerate(added):
            insert_row(tab, last + offset, row)
        serve_tracker(self.server, self.tabs)
        fields = {"genres": [old, new]}
        return (
            {("updated", *edited[:2], json.dumps(fields, sort_keys=True))}
            | {("removed", *g, "{}") for g in self.gone}
            | {("created", *row[:2], "{}") for row in added}
        )

    def third_version(self) -> set[tuple]:
        """Bring back one deleted album as it was."""
        insert_row(self.tab, self.deleted_at - 1, self.deleted)
        serve_tracker(self.server, self.tabs)
        return {("restored", *self.deleted.values[:2], "{}")}


def test_change_log_records_exactly_the_edits(server, database_url):
    edits = Edits(server)
    sync = CatalogSync(api_settings(server.url, database_url, worksheet="*"))
    first = sync.run_sync("tester")
    assert first.status is SyncStatus.COMPLETED, first.message
    (initial,) = sync.changes(first.id)
    assert (initial.change, initial.count, initial.album_id) == ("initial_load", 30, None)
    assert initial.to_json()["count"] == 30

    expected = edits.second_version()
    second = sync.run_sync("tester")
    assert (second.created, second.updated, second.removed) == (2, 1, 2), second.message
    assert entries(sync, second.id) == expected
    created = [c for c in sync.changes(second.id) if c.change == "created"]
    assert all(c.album_id is not None for c in created)

    restored = edits.third_version()
    third = sync.run_sync("tester")
    assert entries(sync, third.id) == restored

    again = sync.run_sync("tester")
    assert (again.created, again.updated, again.removed) == (0, 0, 0)
    assert sync.changes(again.id) == []
    assert sync.last_changed_sync() == third.id

    album_id = next(c.album_id for c in sync.changes(third.id))
    history = sync.album_history(album_id)
    assert [(h.operation_id, h.change) for h in history] == [
        (third.id, "restored"),
        (second.id, "removed"),
    ]
    assert history[0].triggered_by == "tester"
    sync.close()


def test_preview_reports_the_next_syncs_changes_and_changes_nothing(server, database_url):
    edits = Edits(server)
    sync = CatalogSync(api_settings(server.url, database_url, worksheet="*"))
    sync.run_sync("tester")
    expected = edits.second_version()
    before, synced_at = catalog_rows(sync), sync.last_synced_at()

    preview = sync.run_sync("tester", preview=True)
    assert preview.status is SyncStatus.PREVIEWED, preview.message
    assert (preview.created, preview.updated, preview.removed) == (2, 1, 2)
    assert "would create 2, update 1 and remove 2 albums" in preview.message
    assert preview.error is None  # the guard would not stop it
    assert catalog_rows(sync) == before
    assert sync.last_synced_at() == synced_at
    assert sync.last_changed_sync() != preview.id
    (listed,) = [h for h in sync.history() if h.operation_id == preview.id]
    assert listed.preview and listed.status is SyncStatus.PREVIEWED

    real = sync.run_sync("tester")
    assert entries(sync, preview.id) == entries(sync, real.id) == expected
    sync.close()


def test_preview_says_the_guard_would_stop_the_sync_and_lists_the_removals(server, sqlite_url):
    edits = Edits(server)
    sync = CatalogSync(api_settings(server.url, sqlite_url, worksheet="*"))
    sync.run_sync("tester")
    for r in reversed(album_rows(edits.tab)[5:]):
        delete_row(edits.tab, r)
    serve_tracker(server, edits.tabs)
    before = catalog_rows(sync)
    preview = sync.run_sync("tester", preview=True)
    assert preview.status is SyncStatus.PREVIEWED
    assert preview.error and "SYNCCORE_REMOVAL_GUARD" in preview.error
    assert "The removal guard would stop this sync." in preview.message
    assert len([c for c in sync.changes(preview.id) if c.change == "removed"]) == 25
    assert catalog_rows(sync) == before
    assert sync.health().facts.last_outcome.status == "completed"  # a preview is no outcome
    sync.close()


def cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "synccore", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow  # real processes
def test_cli_dry_run_and_changes(server, tmp_path):
    import os

    edits = Edits(server)
    url = f"sqlite:///{tmp_path / 'c.db'}"
    env = os.environ | api_env(server) | {"SYNCCORE_WORKSHEET": "*", "SYNCCORE_DATABASE_URL": url}
    assert cli(env, "sync").returncode == 0
    listed = json.loads(cli(env, "changes", "--json").stdout)
    assert [(c["change"], c["count"]) for c in listed] == [("initial_load", 30)]

    edits.second_version()
    done = cli(env, "sync", "--dry-run", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["guard"] is None
    assert sorted(c["title"] for c in report["would_create"]) == [
        "Friend of a Phantom",
        "Further Reflections",
    ]
    (updated,) = report["would_update"]
    assert set(updated) == {"album_id", "artist", "title", "change", "fields"}
    assert updated["fields"]["genres"][1][-1] == "Zeuhl"
    assert len(report["would_remove"]) == 2
    assert report["operation"]["status"] == "previewed"

    text = cli(env, "sync", "--dry-run")
    assert text.returncode == 0 and "would update (1):" in text.stdout
    assert "Zeuhl" in text.stdout

    assert cli(env, "sync").returncode == 0
    listed = json.loads(cli(env, "changes", "--json").stdout)
    assert {c["change"] for c in listed} == {"created", "updated", "removed"}
    first = json.loads(cli(env, "changes", "--sync", "1", "--json").stdout)
    assert first[0]["change"] == "initial_load"
    shown = cli(env, "changes")
    assert "updated   " in shown.stdout and "-> " in shown.stdout


@pytest.mark.slow  # real processes
def test_cli_dry_run_exit_codes(server, tmp_path):
    import os

    Edits(server)
    url = f"sqlite:///{tmp_path / 'c.db'}"
    env = os.environ | api_env(server) | {"SYNCCORE_WORKSHEET": "*", "SYNCCORE_DATABASE_URL": url}
    unreadable = cli(env | {"SYNCCORE_SHEET": "x" * 30 + "missing"}, "sync", "--dry-run", "--json")
    assert unreadable.returncode == 1, unreadable.stdout

    sync = CatalogSync(api_settings(server.url, url, worksheet="*"))
    claim(sync.db, sync.settings, "someone else")
    busy = cli(env, "sync", "--dry-run")
    assert busy.returncode == 3
    assert "already in progress" in busy.stderr
    sync.close()


def test_change_log_is_pruned_with_its_sync(server, sqlite_url):
    edits = Edits(server)
    sync = CatalogSync(api_settings(server.url, sqlite_url, worksheet="*", keep_syncs=2))
    first = sync.run_sync("tester")
    edits.second_version()
    second = sync.run_sync("tester")
    sync.run_sync("tester")
    sync.run_sync("tester")
    with sync.db.session() as s:
        kept = set(s.scalars(select(AlbumChange.operation_id)))
    assert first.id not in kept and second.id not in kept
    sync.close()


def test_every_updated_album_gets_its_entry_with_old_and_new_values(sqlite_url):
    """What `python -m bench --only changelog` times (the log of 100,000 updated albums), on
    fewer albums: one entry per changed album, its genre list old and new, all stored."""
    from bench.changelog import updated_albums
    from synccore import changes
    from synccore.db import Database

    db = Database(sqlite_url)
    op = claim(db, api_settings("http://127.0.0.1:9", sqlite_url), "bench")
    rows, stored, lists = updated_albums(2_000)
    logged = changes.batch_changes(rows, stored, lists)
    with db.write() as s:
        changes.record(s, op, logged)
    assert len(logged) == 2_000
    assert logged[0].fields == {"genres": [["Djent"], ["Djent", "Prog"]]}
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(AlbumChange)) == 2_000
    db.dispose()


def test_a_diff_shapes_dates_and_links_as_people_read_them_and_only_what_differs():
    from synccore.changes import FIELDS, diff_json
    from synccore.rows import ReleaseDate

    def values(**changed):
        base = dict(
            artist="Vola",
            title="Friend of a Phantom",
            release=ReleaseDate(2024, 11, 1, "day", "2024-11-01"),
            vocal_style="Clean",
            location="Copenhagen, Denmark",
            country="Denmark",
            album_type="LP",
            debut=False,
            reissue=False,
            links=(("spotify", "https://open.spotify.com/album/a"),),
            genres=("Prog-metal",),
            worksheets=("2024 Prog-metal",),
        )
        return tuple({**base, **changed}[name] for name in FIELDS)

    old = values()
    assert diff_json(old, values()) is None
    # The same day written another way: rewritten in the catalog, but no change to show.
    assert diff_json(old, values(release=ReleaseDate(2024, 11, 1, "day", "1 Nov 2024"))) is None
    new = values(
        release=ReleaseDate(2024, 11, None, "month", "Nov 2024"),
        links=(("bandcamp", "https://vola.bandcamp.com/"), *old[FIELDS.index("links")]),
        genres=("Prog-metal", "Djent"),
    )
    assert json.loads(diff_json(old, new) or "") == {
        "release": ["2024-11-01", "November 2024"],
        "links": [
            {"spotify": "https://open.spotify.com/album/a"},
            {
                "bandcamp": "https://vola.bandcamp.com/",
                "spotify": "https://open.spotify.com/album/a",
            },
        ],
        "genres": [["Prog-metal"], ["Prog-metal", "Djent"]],
    }


def test_a_search_of_the_change_log_ignores_case_in_any_script(server, database_url):
    """SQLite's lower() folds ASCII only; the log is searched like the Catalog is."""
    edits = Edits(server)
    sync = CatalogSync(api_settings(server.url, database_url, worksheet="*"))
    sync.run_sync("tester")
    last = album_rows(edits.tab)[-1] + 1
    insert_row(edits.tab, last, ["Ørkenkrieger", "Ångest", 45_200, "LP", "Djent"])
    serve_tracker(server, edits.tabs)
    added = sync.run_sync("tester")
    assert added.created == 1, added.message
    for text in ("ÅNGEST", "ångest", "ØRKENKRIEGER", "rkenkrieg"):
        found = sync.changes(added.id, search=text)
        assert [(c.change, c.artist, c.title) for c in found] == [
            ("created", "Ørkenkrieger", "Ångest")
        ], text
        assert sync.count_changes(added.id, search=text) == 1
    assert sync.changes(added.id, search="Ångström") == []
    sync.close()
