"""A generated multi-tab release tracker synced over real HTTP through gspread and the fake
Sheets API: every field of sampled albums, per-tab figures, drift warnings, skipped tabs,
albums in two tabs, removals with a skipped tab, worksheet selection."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from synccore import CatalogSync, SyncStatus
from synccore.catalog import AlbumFilter
from synccore.demo import (
    DEBUT_COLOR,
    REISSUE_COLOR,
    REISSUE_SHADE,
    TrackerTab,
    demo_tracker,
)
from synccore.errors import WorksheetNotFound
from synccore.locations import country_of
from synccore.models import SyncStage
from synccore.sources.answers import grid_rows
from synccore.sources.sheets import select_worksheets

from .support.processes import run_synccore, synccore_env
from .support.sheets import api_settings, serve_tracker, sheet_api

SERVICES = {
    "Bandcamp": "bandcamp",
    "Spotify": "spotify",
    "YouTube": "youtube",
    "Amazon": "amazon",
    "Apple Music": "apple_music",
    "Google Play": "google_play",
}
EPOCH = date(1899, 12, 30)


@pytest.fixture
def server():
    with sheet_api() as api:
        yield api


def tracker(**options) -> list[TrackerTab]:
    """2025 (header on row 6), 2019 (row 5, a Google Play column, a Reissues tab) and 2017."""
    values = dict(years=(2025, 2019, 2017), albums_per_tab=40, shared_every=10, announced=3)
    values.update(options)
    return demo_tracker(bad_rows=False, **values)


def make_sync(server, database_url, worksheet: str | None = "*", **overrides) -> CatalogSync:
    return CatalogSync(api_settings(server.url, database_url, worksheet=worksheet, **overrides))


def catalog(sync: CatalogSync) -> dict[tuple[str, str], object]:
    page = sync.albums(AlbumFilter(), limit=100_000)
    return {(a.artist, a.title): a for a in page.items}


def expected_tabs(tabs: list[TrackerTab]) -> dict[tuple[str, str], list[str]]:
    found: dict[tuple[str, str], list[str]] = {}
    for tab in tabs:
        for key in tab.albums:
            found.setdefault(key, []).append(tab.title)
    return found


def assert_album_matches(album, fields: dict, worksheets: list[str]) -> None:
    release = fields["release"]
    shown = "TBA" if release == "TBA" else (EPOCH + timedelta(days=release)).isoformat()
    assert album.release == shown
    assert album.album_type == fields["length"]
    assert ", ".join(album.genres) == fields["genres"]
    assert (album.location, album.country) == (fields["location"], country_of(fields["location"]))
    assert album.debut is (fields["color"] == DEBUT_COLOR)
    assert album.reissue is (fields["color"] in (REISSUE_COLOR, REISSUE_SHADE))
    links = {SERVICES[s]: url for s, url in fields["links"].items()}
    links["spotify"] = links["spotify"].split("?")[0]  # "?si=..." is not part of the album
    links.pop("google_play", None)  # only the 2018-2019 tabs have that column
    assert {k: v for k, v in album.links.items() if k != "google_play"} == links
    assert album.spotify_id == links["spotify"].rsplit("/", 1)[1]
    assert list(album.worksheets) == worksheets


def test_every_tab_syncs_with_every_field(server, database_url):
    tabs = tracker()
    serve_tracker(server, tabs)
    sync = make_sync(server, database_url)
    status = sync.run_sync("tester")
    assert status.status is SyncStatus.COMPLETED, status.message
    assert status.failed == 0
    where = expected_tabs(tabs)
    stored = catalog(sync)
    assert set(stored) == set(where)
    assert status.total == len(where)
    for tab in tabs:
        for key, fields in list(tab.albums.items())[::7]:  # a sample from every tab
            assert_album_matches(stored[key], fields, where[key])
    google_play = [a for a in stored.values() if "2019 Prog-metal" in a.worksheets]
    assert any("google_play" in a.links for a in google_play)  # the column moved the others

    announced = sum(t.announced for t in tabs)
    assert status.announced == announced
    assert f"{announced} announced albums have no title yet" in status.message
    by_name = {t["name"]: t for t in status.worksheets}
    assert list(by_name) == [t.title for t in tabs]
    first = by_name["2025 Prog-metal"]
    assert (first["albums"], first["row_errors"], first["announced"]) == (40, 0, 3)
    assert first["rows_read"] == len(tabs[0].values) and first["skipped"] is None
    assert by_name["Statistics"]["skipped"]
    assert status.warnings == (
        "Skipped the worksheet 'Statistics': it has no Artist and Album header in its first 15 "
        "rows (it was picked by a pattern in SYNCCORE_WORKSHEET). Albums that came from it are "
        "kept.",
    )
    sync.close()


def test_unchanged_resync_writes_nothing_even_for_albums_in_two_tabs(server, sqlite_url):
    serve_tracker(server, tracker())
    sync = make_sync(server, sqlite_url)
    first = sync.run_sync("tester")
    again = sync.run_sync("tester")
    assert (again.created, again.updated, again.unchanged) == (0, 0, first.total)
    sync.close()


def test_album_in_two_tabs_is_one_album_with_the_first_tabs_fields(server, database_url):
    tabs = tracker()
    rock = tabs[1]
    (artist, title), fields = next((k, f) for k, f in rock.albums.items() if k in tabs[0].albums)
    row = next(r for r in rock.values if r[:2] == [artist, title])
    row[4] = "Shoegaze"  # the later tab disagrees: the first tab in sheet order wins
    serve_tracker(server, tabs)
    sync = make_sync(server, database_url)
    status = sync.run_sync("tester")
    assert status.failed == 0  # listed twice across tabs is normal, not a row error
    album = catalog(sync)[(artist, title)]
    assert album.worksheets == ("2025 Prog-metal", "2025 Prog-rock")
    assert ", ".join(album.genres) == fields["genres"]
    assert sync.albums(AlbumFilter(worksheets=("2025 Prog-rock",)), limit=1).total == 40
    sync.close()


def test_removal_spares_albums_of_a_skipped_tab(server, database_url):
    tabs = tracker()
    serve_tracker(server, tabs)
    sync = make_sync(server, database_url)
    sync.run_sync("tester")
    rock = tabs[1]
    only_rock = [k for k in rock.albums if k not in tabs[0].albums]
    header_at = rock.header_row - 1
    rock.values[header_at] = ["Who", "What"]  # the header is gone: the tab is skipped
    gone = list(tabs[0].albums)[1]
    tabs[0].values = [r for r in tabs[0].values if r[:2] != list(gone)]
    serve_tracker(server, tabs)
    status = sync.run_sync("tester")
    assert status.status is SyncStatus.COMPLETED, status.message
    assert status.removed == 1
    skipped = {t["name"]: t["skipped"] for t in status.worksheets}
    assert skipped["2025 Prog-rock"] and not skipped["2025 Prog-metal"]
    assert any("'2025 Prog-rock'" in w and "are kept" in w for w in status.warnings)
    live = catalog(sync)
    assert gone not in live
    assert all(k in live for k in only_rock)
    counts: dict[str, int] = {}
    for album in live.values():
        for genre in album.genres:
            counts[genre] = counts.get(genre, 0) + 1
    assert sync.facets().genre_counts == counts  # the removed album no longer counts
    sync.close()


def test_a_named_tab_without_a_header_fails_the_sync(server, sqlite_url):
    tabs = tracker()
    tabs[1].values[tabs[1].header_row - 1] = ["Who", "What"]
    serve_tracker(server, tabs)
    sync = make_sync(server, sqlite_url, worksheet="2025 Prog-metal, 2025 Prog-rock")
    status = sync.run_sync("tester")
    assert status.status is SyncStatus.FAILED
    assert "'2025 Prog-rock'" in (status.error or "")
    assert sync.albums(AlbumFilter()).total == 0
    sync.close()


def test_a_missing_column_is_reported_and_only_that_field_is_empty(server, sqlite_url):
    tabs = tracker()
    header = tabs[0].values[tabs[0].header_row - 1]
    header[4] = "Styles of music"
    serve_tracker(server, tabs)
    sync = make_sync(server, sqlite_url, worksheet="*Prog-metal")
    status = sync.run_sync("tester")
    assert status.status is SyncStatus.COMPLETED
    [warning] = [w for w in status.warnings if "2025 Prog-metal" in w]
    assert warning.startswith(
        "No genre column in '2025 Prog-metal' (columns seen: Artist, Album, Release Date, "
        "Length, Styles of music, Vocal Style, Country / State, Bandcamp, Spotify, "
    )
    assert "genres will be empty" in warning
    stored = catalog(sync)
    key = next(iter(tabs[0].albums))
    assert stored[key].genres == () and stored[key].album_type == tabs[0].albums[key]["length"]
    status_json = sync.current_status().to_json()
    assert warning in status_json["warnings"]
    sync.close()


def test_progress_names_each_tab(server, sqlite_url):
    serve_tracker(server, tracker())
    sync = make_sync(server, sqlite_url, worksheet="*Prog-metal,2017", progress_interval=0)
    progress: list = []
    status = sync.run_sync("tester", on_progress=progress.append)
    seen = [p.message for p in progress]
    assert "Reading tab 1 of 3: 2025 Prog-metal..." in seen
    assert any(m.startswith("Reading tab 3 of 3: 2017... ") and " rows" in m for m in seen)
    # The bar counts the whole read, across tabs: tab 3 starts where tabs 1 and 2 ended.
    third = next(p for p in progress if p.message == "Reading tab 3 of 3: 2017...")
    tabs = {t["name"]: t["rows_read"] for t in status.worksheets}
    assert third.processed == tabs["2025 Prog-metal"] + tabs["2019 Prog-metal"] > 0
    fetching = [p for p in progress if p.stage is SyncStage.FETCHING and p.total]
    assert [p.processed for p in fetching] == sorted(p.processed for p in fetching)
    assert all(p.processed <= p.total for p in fetching)
    assert fetching[-1].processed == sum(tabs.values())
    sync.close()


def test_filters_find_a_genre_inside_a_list_and_the_other_facets(server, database_url):
    tabs = tracker()
    serve_tracker(server, tabs)
    sync = make_sync(server, database_url)
    sync.run_sync("tester")
    facets = sync.facets()
    assert "Atmospheric/Post-Black metal" in facets.genres
    listed = [k for t in tabs for k, f in t.albums.items() if "Djent" in f["genres"].split(", ")]
    assert facets.genre_counts["Djent"] == len(set(listed))
    assert sync.albums(AlbumFilter(genres=("Djent",))).total == len(set(listed))
    eps = {k for t in tabs for k, f in t.albums.items() if f["length"] == "EP"}
    assert sync.albums(AlbumFilter(album_types=("EP",))).total == len(eps)
    debuts = {k for t in tabs for k, f in t.albums.items() if f["color"] == DEBUT_COLOR}
    assert sync.albums(AlbumFilter(debut_only=True)).total == len(debuts)
    us = {
        k for t in tabs for k, f in t.albums.items() if country_of(f["location"]) == "United States"
    }
    assert sync.albums(AlbumFilter(countries=("United States",))).total == len(us)
    assert "United States" in facets.countries and "EP" in facets.album_types
    assert facets.worksheets[:2] == ["2025 Prog-metal", "2025 Prog-rock"]
    sync.close()


@pytest.mark.slow  # real processes
def test_cli_albums_json_filters(server, tmp_path):
    tabs = tracker(years=(2025,))
    serve_tracker(server, tabs)
    env = synccore_env(f"sqlite:///{tmp_path / 'c.db'}", server, SYNCCORE_WORKSHEET="*Prog-*")

    def cli(*args: str) -> dict:
        done = run_synccore(tmp_path, *args, env=env)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    synced = cli("sync", "--json")
    assert [t["name"] for t in synced["worksheets"]] == ["2025 Prog-metal", "2025 Prog-rock"]
    assert synced["announced"] == 6 and synced["warnings"] == []
    assert cli("status", "--json")["operation"]["worksheets"] == synced["worksheets"]
    result = cli(
        "albums",
        "--json",
        "--limit",
        "5",
        "--genre",
        "Djent",
        "--genre",
        "Mathcore",
        "--type",
        "LP",
        "--worksheet",
        "2025 Prog-rock",
    )
    assert 0 < len(result["albums"]) <= 5
    for album in result["albums"]:
        assert {"Djent", "Mathcore"} & set(album["genres"]) and album["album_type"] == "LP"
        assert "2025 Prog-rock" in album["worksheets"]
        assert set(album) >= {"location", "country", "links", "debut", "reissue"}
    debuts = cli("albums", "--json", "--debut", "--country", "United States", "--limit", "500")
    assert all(a["debut"] and a["country"] == "United States" for a in debuts["albums"])


# -- pure pieces -----------------------------------------------------------------------------


def sheets(*titles: str) -> list[dict]:
    return [
        {
            "properties": {
                "title": t,
                "sheetId": 100 + i,
                "index": i,
                "sheetType": "GRID",
                "gridProperties": {"rowCount": 1000, "columnCount": 26},
            }
        }
        for i, t in enumerate(titles)
    ]


TRACKER_TABS = sheets(
    "2025 Prog-metal", "2025 Prog-rock", "2024 Prog-metal", "2018", "2017", "Statistics"
)


@pytest.mark.parametrize(
    "wanted, titles, explicit",
    [
        (None, ["2025 Prog-metal"], [True]),
        ("*", [s["properties"]["title"] for s in TRACKER_TABS], [False] * 6),
        (
            "*Prog-metal,2017,2018",
            ["2025 Prog-metal", "2024 Prog-metal", "2018", "2017"],
            [False, False, True, True],
        ),
        ("103, *prog-ROCK", ["2025 Prog-rock", "2018"], [False, True]),
        (
            "2017,*",
            [s["properties"]["title"] for s in TRACKER_TABS],
            [False, False, False, False, True, False],
        ),
    ],
)
def test_worksheet_selection(wanted, titles, explicit):
    tabs = select_worksheets(TRACKER_TABS, wanted)
    assert [t.title for t in tabs] == titles
    assert [t.explicit for t in tabs] == explicit


def test_a_named_tab_that_does_not_exist_is_an_error():
    with pytest.raises(WorksheetNotFound, match='no worksheet "2016"'):
        select_worksheets(TRACKER_TABS, "*Prog-metal,2016")
    with pytest.raises(WorksheetNotFound, match="No worksheet matches"):
        select_worksheets(TRACKER_TABS, "*Reissues*")


def test_grid_cells_give_colors_but_not_white():
    block = {
        "rowData": [
            {
                "values": [
                    {
                        "effectiveValue": {"stringValue": "LP"},
                        "effectiveFormat": {
                            "backgroundColor": {"red": 1, "green": 0.7294118, "blue": 0.2901961}
                        },
                    },
                    {
                        "effectiveValue": {"stringValue": "x"},
                        "effectiveFormat": {"backgroundColor": {"red": 1, "green": 1, "blue": 1}},
                    },
                    {"effectiveFormat": {"backgroundColor": {"green": 1}}},
                ]
            }
        ]
    }
    [row] = grid_rows(block, 0)
    assert row.colors == {0: (255, 186, 74), 2: (0, 255, 0)}


def test_kept_row_errors_are_the_first_in_tab_then_row_order():
    from synccore.rows import RowError
    from synccore.sync import RowErrorLog

    log = RowErrorLog(limit=2)
    log.append(RowError(5, "x", (), "2024 Prog-metal"), tab=1)
    log.append(RowError(900, "x", (), "2025 Prog-metal"), tab=0)
    log.append(RowError(7, "x", (), "2025 Prog-metal"), tab=0)
    assert len(log) == 3
    assert [(e.worksheet, e.row_number) for e in log.kept()] == [
        ("2025 Prog-metal", 7),
        ("2025 Prog-metal", 900),
    ]
