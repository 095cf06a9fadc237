""" "Last synced: 2 hours ago", computed in the browser so it ages without a Streamlit rerun.

A tiny HTML document in an iframe: the server sends only the ISO timestamp; inline JavaScript
formats it with Intl.RelativeTimeFormat in the viewer's language, puts the exact local time
in the title (shown on hover) and redraws every minute. Every value is HTML-escaped and the
script reads the timestamp from a data attribute, so no data is ever spliced into code.
The document is identical from rerun to rerun while the timestamp stays the same, so the
2 s status reruns do not reload it.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime

import streamlit as st

HEIGHT_PX = 30
WIDTH_PX = 320  # "Last synced: 11 months ago" fits

_SCRIPT = """
(function () {
  var el = document.getElementById("last-synced");
  var iso = el.getAttribute("data-synced-at");
  if (!iso) { return; }
  var when = new Date(iso);
  if (isNaN(when.getTime())) { return; }
  var units = [["year", 31536000], ["month", 2592000], ["week", 604800],
               ["day", 86400], ["hour", 3600], ["minute", 60]];
  var rtf = null;
  try { rtf = new Intl.RelativeTimeFormat(undefined, {numeric: "auto"}); } catch (e) {}
  function relative() {
    // A browser clock a little behind the server's must not say "in 5 seconds".
    var seconds = Math.min(0, (when.getTime() - Date.now()) / 1000);
    for (var i = 0; i < units.length; i++) {
      if (-seconds >= units[i][1]) {
        // Whole units elapsed: "1 hour ago" until two hours have passed.
        var n = -Math.floor(-seconds / units[i][1]);
        return rtf ? rtf.format(n, units[i][0]) : (-n) + " " + units[i][0] + "(s) ago";
      }
    }
    return "just now";
  }
  function render() {
    el.textContent = "Last synced: " + relative();
    el.title = when.toLocaleString(undefined, {dateStyle: "full", timeStyle: "long"});
  }
  render();
  setInterval(render, 60000);
})();
"""

_STYLE = (
    "html,body{margin:0;padding:0;background:transparent;overflow:hidden}"
    "#last-synced{font-family:'Source Sans','Source Sans Pro',-apple-system,BlinkMacSystemFont,"
    "'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;font-size:16px;"
    "line-height:" + str(HEIGHT_PX) + "px;"
    "color:#5e6170;white-space:nowrap;cursor:default}"
)


def last_synced_html(synced_at: datetime | None) -> str:
    """The component's document. Without JavaScript it still shows the exact UTC time."""
    if synced_at is None:
        body = '<span id="last-synced" data-synced-at="">Never synced</span>'
    else:
        when = synced_at.astimezone(UTC)
        iso = when.isoformat().replace("+00:00", "Z")
        exact = when.strftime("%Y-%m-%d %H:%M:%S UTC")
        body = (
            f'<span id="last-synced" data-synced-at="{html.escape(iso, quote=True)}" '
            f'title="{html.escape(exact, quote=True)}">Last synced: {html.escape(exact)}</span>'
        )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<style>{_STYLE}</style></head><body>{body}<script>{_SCRIPT}</script></body></html>"
    )


def render_last_synced(synced_at: datetime | None) -> None:
    st.iframe(
        last_synced_html(synced_at),
        height=HEIGHT_PX,
        width=WIDTH_PX,
        alt="When the catalog was last synced",
    )
