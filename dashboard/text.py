"""Show text from the sheet or the engine as text: Markdown and Streamlit directives escaped."""

from __future__ import annotations

import re

# CommonMark lets any ASCII punctuation be backslash-escaped; Streamlit adds :emoji:, :color[]
# and $math$, covered by escaping ':' and '$'.
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$=&\"'])")


def plain(text: object) -> str:
    """`text` escaped so st.markdown (and st.success, st.error, ...) shows it literally."""
    escaped = _MARKDOWN_SPECIALS.sub(r"\\\1", str(text))
    # A line break inside a message should stay a line break, not start a Markdown block.
    return escaped.replace("\n", "  \n")
