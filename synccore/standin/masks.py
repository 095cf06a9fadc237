"""`fields` masks as Google applies them: only the named fields come back, and cells or rows
left with none are trimmed away, so a masked answer is as small as Google's."""

from __future__ import annotations

import re
from typing import Any

from .errors import JSON, FakeApiError
from .workbook import trim_trailing


def parse_field_mask(mask: str) -> dict[str, Any] | None:
    """A `fields` mask as a tree: {name: subtree}; a subtree of None selects everything."""
    mask = mask.replace(" ", "")
    if mask in ("", "*"):
        return None
    tree, pos = _parse_mask_list(mask, 0)
    if pos != len(mask):
        raise ValueError(mask)
    return tree


def _parse_mask_list(mask: str, pos: int) -> tuple[dict[str, Any], int]:
    tree: dict[str, Any] = {}
    while True:
        match = re.compile(r"[A-Za-z_*][A-Za-z0-9_.*]*").match(mask, pos)
        if not match:
            raise ValueError(mask)
        path, pos = match.group(0).split("."), match.end()
        sub: dict[str, Any] | None = None
        if mask.startswith("(", pos):
            sub, pos = _parse_mask_list(mask, pos + 1)
            if not mask.startswith(")", pos):
                raise ValueError(mask)
            pos += 1
        _merge_mask_path(tree, path, sub)
        if not mask.startswith(",", pos):
            return tree, pos
        pos += 1


def _merge_mask_path(tree: dict[str, Any], path: list[str], sub: dict[str, Any] | None) -> None:
    node = tree
    for name in path[:-1]:
        if name in node and node[name] is None:
            return  # already everything below
        node = node.setdefault(name, {})
    last = path[-1]
    if sub is None or (last in node and node[last] is None):
        node[last] = None
    else:
        for name, child in sub.items():
            _merge_mask_path(node.setdefault(last, {}), [name], child)


def apply_field_mask(value: Any, tree: dict[str, Any] | None) -> Any:
    """Keep only the fields the mask names; lists are masked element by element."""
    if tree is None:
        return value
    if isinstance(value, list):
        return [apply_field_mask(item, tree) for item in value]
    if isinstance(value, dict):
        if "*" in tree:
            return value
        return {k: apply_field_mask(v, tree[k]) for k, v in value.items() if k in tree}
    return value


def masked(response: JSON, mask: str) -> JSON:
    try:
        tree = parse_field_mask(mask)
    except ValueError:
        raise FakeApiError(400, f"Invalid field selection {mask}") from None
    masked = apply_field_mask(response, tree)
    for sheet in masked.get("sheets", []):
        for block in sheet.get("data", []):
            _trim_row_data(block)
    return masked


def _trim_row_data(block: JSON) -> None:
    """After masking, cells with no selected field are {}; trim them as Google does."""
    if "rowData" not in block:
        return
    rows = []
    for row in block["rowData"]:
        cells = trim_trailing(row.get("values", []), lambda c: c == {})
        rows.append({"values": cells} if cells else {})
    rows = trim_trailing(rows, lambda r: r == {})
    if rows:
        block["rowData"] = rows
    else:
        del block["rowData"]
