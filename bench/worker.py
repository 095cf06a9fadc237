"""One measured job in a fresh process: `python -m bench.worker '<json>'` prints a JSON result.

A fresh process per job gives each sync its own peak RSS (VmHWM) and its own quota window,
and keeps one job's leftovers (caches, freed-but-kept memory) out of the next one's figures.
Set-up (imports, migrations) happens before the clock starts.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from .common import API_KEY, peak_rss_mb_of, sync_settings


def _settings(spec: dict[str, Any]):
    return sync_settings(
        spec["db"],
        spec["server"],
        spec["sheet"],
        read_quota_per_minute=spec.get("quota") or 1_000_000,
    )


def job_sync(spec: dict[str, Any]) -> dict[str, Any]:
    """The real sync path: CatalogSync.run_sync, as the dashboard and CLI call it."""
    from sqlalchemy import func, select

    import synccore.sources.sheets  # noqa: F401 - a long-running server imports it once
    import synccore.sync  # noqa: F401
    from synccore import CatalogSync
    from synccore.models import Album

    sync = CatalogSync(_settings(spec))
    profile = spec.get("profile")
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    status = sync.run_sync("bench", force=bool(spec.get("force")))
    seconds = time.perf_counter() - started
    if profile:
        profiler.disable()
        profiler.dump_stats(profile)
    with sync.db.session() as s:
        written = s.scalar(
            select(func.count()).select_from(Album).where(Album.last_sync_id == status.id)
        )
        albums = s.scalar(select(func.count()).select_from(Album))
    sync.close()
    return {
        "seconds": seconds,
        "status": status.status.value,
        "message": status.message,
        "created": status.created,
        "updated": status.updated,
        "unchanged": status.unchanged,
        "removed": status.removed,
        "failed": status.failed,
        "processed": status.processed,
        "albums_written": written,
        "albums": albums,
    }


def job_orm(spec: dict[str, Any]) -> dict[str, Any]:
    """The per-row ORM baseline: the original design's update_or_create loop, one transaction
    per album, each album looked up by key (and its artist, genre, vocal style by name)."""
    from sqlalchemy import select

    from synccore.db import Database
    from synccore.models import Album, Artist, Genre, VocalStyle
    from synccore.rows import AlbumRow, RowError, find_header, parse_row
    from synccore.sources.sheets import GoogleSheetSource
    from synccore.status import utcnow
    from synccore.upserts import ALBUM_KEYS, LookupCache, album_values

    settings = _settings(spec)
    db = Database(settings.database_url)
    started = time.perf_counter()
    source = GoogleSheetSource(settings)
    albums: list[AlbumRow] = []
    bad = 0
    for tab in source.tabs(_Quiet()):  # every album tab, each with its own header
        raw = [row for chunk in source.read_tab(tab, _Quiet()) for row in chunk]
        columns, header_index = find_header(raw[:15], settings.header_aliases)
        parsed = [parse_row(r, columns) for r in raw[header_index + 1 :]]
        albums += [p for p in parsed if isinstance(p, AlbumRow)]
        bad += sum(1 for p in parsed if isinstance(p, RowError))

    def get_or_create(s, model, key: str, **values):
        found = s.scalar(select(model).where(model.name_key == key))
        if found is None:
            found = model(name_key=key, **values)
            s.add(found)
            s.flush()
        else:
            for name, value in values.items():
                if value is not None:
                    setattr(found, name, value)
        return found

    for r in albums:
        with db.write() as s:  # one transaction per album
            cache = LookupCache()
            artist = get_or_create(s, Artist, r.artist_key, name=r.artist)
            cache.artists[r.artist_key] = (artist.id, artist.name)
            for genre_key, genre_name in zip(r.genre_keys, r.genres, strict=True):
                genre = get_or_create(s, Genre, genre_key, name=genre_name)
                cache.genres[genre_key] = (genre.id, genre.name)
            if r.vocal_style_key:
                style = get_or_create(s, VocalStyle, r.vocal_style_key, name=r.vocal_style)
                cache.vocal_styles[r.vocal_style_key] = (style.id, style.name)
            values = dict(zip(ALBUM_KEYS, album_values(r, cache), strict=True))
            album = s.scalar(select(Album).where(Album.key == r.key))
            now = utcnow()
            if album is None:
                s.add(Album(**values, created_at=now, updated_at=now))
            else:
                for name, value in values.items():
                    setattr(album, name, value)
                album.updated_at = now
    seconds = time.perf_counter() - started
    db.dispose()
    return {
        "seconds": seconds,
        "albums": len(albums),
        "bad_rows": bad,
        "requests": source.requests_made,
    }


class _Quiet:
    def fetched(self, rows_read: int, rows_expected: int | None) -> None:
        pass

    def check_stop(self) -> None:
        pass

    def waiting(self, message: str) -> None:
        pass


FLOOR_GRID_FROM = 3  # the Length column (its color), then the link columns after it


def job_floor(spec: dict[str, Any]) -> dict[str, Any]:
    """The floor: the same cells over the same HTTP read the lean way (every album tab's values
    in one `values.batchGet`; the Length and link columns' links and colors in one masked grid
    request), decoded, and bulk-inserted with one executemany into a flat table (no
    validation, no keys, no lookups)."""
    import requests
    import sqlalchemy as sa

    from synccore.db import normalize_url
    from synccore.sources.answers import GRID_PARAMS, VALUE_PARAMS, Span

    tabs: list[tuple[str, int, int]] = [tuple(tab) for tab in spec["tabs"]]  # title, rows, width
    width = max(w for _, _, w in tabs)
    engine = sa.create_engine(normalize_url(spec["db"]))
    meta = sa.MetaData()
    flat = sa.Table(
        "floor_rows",
        meta,
        sa.Column("tab", sa.Text),
        sa.Column("sheet_row", sa.Integer),
        *(sa.Column(f"c{i}", sa.Text) for i in range(width)),
        sa.Column("links", sa.Text),
        sa.Column("color", sa.Text),
    )
    meta.create_all(engine)
    session = requests.Session()
    url = f"{spec['server']}/v4/spreadsheets/{spec['sheet']}"
    with engine.connect():
        pass  # connect before the clock starts, as the sync's engine does
    started = time.perf_counter()
    common = {"prettyPrint": "false", "key": API_KEY}
    values = session.get(
        url + "/values:batchGet",
        params={
            **VALUE_PARAMS,
            **common,
            "ranges": [Span(t, 0, 0, rows, 0, w - 1).a1 for t, rows, w in tabs],
        },
        timeout=600,
    )
    values.raise_for_status()
    links = session.get(
        url,
        params={
            **GRID_PARAMS,
            **common,
            "ranges": [Span(t, 0, 0, rows, FLOOR_GRID_FROM, w - 1).a1 for t, rows, w in tabs],
        },
        timeout=600,
    )
    links.raise_for_status()
    fetched = time.perf_counter()
    value_ranges = values.json()["valueRanges"]
    grid_sheets = links.json()["sheets"]
    records = []
    for (title, _, _), cells, grid in zip(tabs, value_ranges, grid_sheets, strict=True):
        grid_rows = grid["data"][0].get("rowData", [])
        for number, row in enumerate(cells.get("values", []), 1):
            record: dict[str, Any] = {"tab": title, "sheet_row": number}
            for i in range(width):
                value = row[i] if i < len(row) else ""
                record[f"c{i}"] = None if value == "" else str(value)
            found, color = [], None
            if number <= len(grid_rows):
                for cell in grid_rows[number - 1].get("values", []):
                    link = cell.get("hyperlink") or next(
                        (r["format"]["link"]["uri"] for r in cell.get("textFormatRuns", [])),
                        None,
                    )
                    if link:
                        found.append(link)
                    if "effectiveFormat" in cell:
                        color = json.dumps(cell["effectiveFormat"]["backgroundColor"])
            record["links"] = " ".join(found) or None
            record["color"] = color
            records.append(record)
    decoded = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(flat.insert(), records)
    seconds = time.perf_counter() - started
    engine.dispose()
    return {
        "seconds": seconds,
        "rows": len(records),
        "fetch_seconds": fetched - started,
        "decode_seconds": decoded - fetched,
        "insert_seconds": seconds - (decoded - started),
        "bytes": len(values.content) + len(links.content),
    }


def job_catalog(spec: dict[str, Any]) -> dict[str, Any]:
    """The Catalog page's first render: the first page of albums plus the filter facets."""
    from synccore import CatalogSync

    sync = CatalogSync(_settings(spec))
    times, page_times, facet_times = [], [], []
    total = None
    for _ in range(spec.get("repeat", 5)):
        started = time.perf_counter()
        page = sync.albums(limit=50)
        middle = time.perf_counter()
        sync.facets()
        ended = time.perf_counter()
        times.append(ended - started)
        page_times.append(middle - started)
        facet_times.append(ended - middle)
        total = getattr(page, "total", None)
    count_seconds, plain_count_seconds = _count_query_seconds(sync)
    sync.close()
    return {
        "first": times[0],
        "times": times,
        "page_times": page_times,
        "facet_times": facet_times,
        "total": total,
        "count_seconds": count_seconds,
        "plain_count_seconds": plain_count_seconds,
    }


def _count_query_seconds(sync) -> tuple[float, float]:
    """Counting the active albums with the page's joins (as query_albums did before 323fc76)
    and without them: a reference for what the joins cost at this size."""
    from sqlalchemy import func, select

    from synccore.catalog import AlbumFilter, _filtered, _joined
    from synccore.models import Album

    with sync.db.session() as s:
        started = time.perf_counter()
        s.scalar(_filtered(_joined(select(func.count()).select_from(Album)), AlbumFilter()))
        joined = time.perf_counter() - started
        started = time.perf_counter()
        s.scalar(select(func.count()).select_from(Album).where(Album.removed_at.is_(None)))
        return joined, time.perf_counter() - started


JOBS = {"sync": job_sync, "orm": job_orm, "floor": job_floor, "catalog": job_catalog}


def main() -> None:
    spec = json.loads(sys.argv[1])
    if os.environ.get("BENCH_GC_OFF"):
        import gc

        gc.disable()
    result = JOBS[spec["job"]](spec)
    result["peak_rss_mb"] = peak_rss_mb_of(os.getpid())
    print("BENCH-RESULT " + json.dumps(result, default=str), flush=True)


if __name__ == "__main__":
    main()
