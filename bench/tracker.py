"""Scenario 6: a spreadsheet the real tracker's size and shape read in a handful of requests."""

from __future__ import annotations

from .common import Context, Figure, database

SCENARIO = "6 real tracker size"
MAX_REQUESTS = 8  # issue 10: the whole real-tracker-sized spreadsheet


def tracker(ctx: Context) -> list[Figure]:
    sheet = ctx.server.call("tracker")
    figures = []
    for kind in ctx.options.dbs:
        with database(kind, ctx.options.workdir, "tracker") as db:
            ctx.server.call("reset")
            sync = ctx.sync(db, sheet["key"])
            stats = ctx.server.call("stats")
        requests = stats["read_requests"]
        figures.append(
            Figure(
                SCENARIO,
                f"read requests for {sheet['tabs'] - 1} tabs, {sheet['albums']:,} albums",
                requests,
                "requests",
                kind,
                target=f"<= {MAX_REQUESTS}",
                holds=requests <= MAX_REQUESTS and sync["status"].startswith("completed"),
                note=f"sync {sync['seconds']:.2f} s, {sync['status']}",
            )
        )
    return figures
