"""Helpers for the dashboard's AppTest tests: build the app on a real SQLite file and a CSV
sheet, read what a page shows as plain text, and wait for a background sync to end."""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

from .paths import APP

TEXT_ELEMENTS = (
    "markdown",
    "caption",
    "title",
    "subheader",
    "header",
    "info",
    "warning",
    "error",
    "success",
)


def make_app(secrets: dict, user: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=30)
    for key, value in secrets.items():
        at.secrets[key] = value
    if user is not None:
        at.user = user
    return at


def unescape(text: str) -> str:
    """Undo dashboard.text.plain (backslash escapes), to compare with what a reader sees."""
    return re.sub(r"\\(.)", r"\1", text)


def page_text(at: AppTest) -> str:
    """Every message, caption, metric and button label on the page, one per line."""
    lines: list[str] = []
    for kind in TEXT_ELEMENTS:
        lines += [unescape(str(e.value)) for e in at.get(kind)]
    lines += [unescape(p.proto.text) for p in at.get("progress")]
    lines += [f"{m.label}: {m.value}" for m in at.metric]
    lines += [b.label for b in at.button]
    return "\n".join(lines)


def everything_rendered(at: AppTest) -> str:
    """The raw protobuf of every element and block: for checking a secret appears nowhere."""
    parts: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(parts).replace("\\", "")  # Markdown escapes must not hide a secret


def autorefresh_rendered(at: AppTest) -> bool:
    return any(
        c.proto.component_name.endswith("st_autorefresh") for c in at.get("component_instance")
    )


def button(at: AppTest, key: str):
    matches = [b for b in at.button if b.key == key]
    return matches[0] if matches else None
