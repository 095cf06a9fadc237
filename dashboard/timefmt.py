"""Times and durations as a reader wants them: in the viewer's time zone, rounded sensibly."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

import streamlit as st


def viewer_zone() -> tzinfo:
    """The browser's time zone when Streamlit knows it, else UTC."""
    try:
        name = st.context.timezone
        return ZoneInfo(name) if name else UTC
    except Exception:  # noqa: BLE001 - unknown zone name, or no browser context (tests, bare mode)
        return UTC


def format_time(when: datetime | None, zone: tzinfo = UTC) -> str:
    if when is None:
        return "-"
    local = when.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname() or 'UTC'}"


def format_duration(seconds: float) -> str:
    """4.2 s, 3 min 12 s, 1 h 02 min."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
