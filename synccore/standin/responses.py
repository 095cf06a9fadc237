"""The Sheets API's answers, built from the stand-in's data: `spreadsheets.get` (metadata and
grid data) and `values.batchGet` value ranges."""

from __future__ import annotations

from ..sources.answers import column_letters
from .errors import JSON, FakeApiError
from .ranges import A1Range, parse_a1, quote_sheet_title
from .workbook import (
    FakeWorksheet,
    Spreadsheet,
    cell_data,
    formatted,
    is_empty_value,
    trim_trailing,
    unformatted,
)


def sheet_properties(sheet: FakeWorksheet, index: int) -> JSON:
    return {
        "sheetId": sheet.sheet_id,
        "title": sheet.title,
        "index": index,
        "sheetType": "GRID",
        "gridProperties": {"rowCount": sheet.grid_rows, "columnCount": sheet.grid_columns},
    }


def resolve(book: Spreadsheet, text: str) -> tuple[FakeWorksheet, A1Range]:
    try:
        rng = parse_a1(text)
    except ValueError:
        raise FakeApiError(400, f"Unable to parse range: {text}") from None
    if rng.title is None:
        return book.worksheets[0], rng
    for sheet in book.worksheets:
        if sheet.title == rng.title:
            return sheet, rng
    raise FakeApiError(400, f"Unable to parse range: {text}")


def clip(sheet: FakeWorksheet, rng: A1Range, text: str) -> tuple[int, int, int, int]:
    """The range's rows and columns inside the grid, or 400 when it starts outside it."""
    if rng.start_row >= sheet.grid_rows or rng.start_col >= sheet.grid_columns:
        raise FakeApiError(
            400,
            f"Range ({text}) exceeds grid limits. Max rows: {sheet.grid_rows}, "
            f"max columns: {sheet.grid_columns}",
        )
    end_row = sheet.grid_rows - 1 if rng.end_row is None else min(rng.end_row, sheet.grid_rows - 1)
    end_col = (
        sheet.grid_columns - 1 if rng.end_col is None else min(rng.end_col, sheet.grid_columns - 1)
    )
    return rng.start_row, rng.start_col, end_row, end_col


def a1_text(sheet: FakeWorksheet, r0: int, c0: int, r1: int, c1: int) -> str:
    first, last = f"{column_letters(c0)}{r0 + 1}", f"{column_letters(c1)}{r1 + 1}"
    return f"{quote_sheet_title(sheet.title)}!{first}:{last}"


def render_option(query: dict[str, list[str]], name: str, default: str, allowed: set[str]) -> str:
    value = query.get(name, [default])[0]
    if value not in allowed:
        raise FakeApiError(400, f"Invalid value at '{name}' (TYPE_ENUM), \"{value}\"")
    return value


def value_range(book: Spreadsheet, text: str, query: dict[str, list[str]]) -> JSON:
    """A ValueRange: ragged rows, trailing empty cells and rows omitted, `values` absent if none."""
    render = render_option(
        query,
        "valueRenderOption",
        "FORMATTED_VALUE",
        {"FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA"},
    )
    render_option(
        query, "dateTimeRenderOption", "SERIAL_NUMBER", {"SERIAL_NUMBER", "FORMATTED_STRING"}
    )
    major = render_option(query, "majorDimension", "ROWS", {"ROWS", "COLUMNS"})
    sheet, rng = resolve(book, text)
    r0, c0, r1, c1 = clip(sheet, rng, text)
    render_cell = formatted if render == "FORMATTED_VALUE" else unformatted
    grid = [[sheet.cell(r, c) for c in range(c0, c1 + 1)] for r in range(r0, r1 + 1)]
    if major == "COLUMNS":
        grid = [list(col) for col in zip(*grid, strict=True)] if grid else []
    rows = [
        ["" if v is None else render_cell(v) for v in trim_trailing(row, is_empty_value)]
        for row in grid
    ]
    rows = trim_trailing(rows, lambda r: not r)
    result: JSON = {"range": a1_text(sheet, r0, c0, r1, c1), "majorDimension": major}
    if rows:
        result["values"] = rows
    return result


def grid_data(sheet: FakeWorksheet, r0: int, c0: int, r1: int, c1: int) -> JSON:
    """One GridData block; startRow/startColumn omitted when 0, as Google does."""
    rows = []
    for r in range(r0, r1 + 1):
        cells = trim_trailing([cell_data(sheet, r, c) for c in range(c0, c1 + 1)], lambda x: not x)
        rows.append({"values": cells} if cells else {})
    rows = trim_trailing(rows, lambda x: not x)
    block: JSON = {}
    if r0:
        block["startRow"] = r0
    if c0:
        block["startColumn"] = c0
    if rows:
        block["rowData"] = rows
    block["rowMetadata"] = [{"pixelSize": 21} for _ in range(r0, r1 + 1)]
    block["columnMetadata"] = [{"pixelSize": 100} for _ in range(c0, c1 + 1)]
    return block


def spreadsheet_response(book: Spreadsheet, query: dict[str, list[str]]) -> JSON:
    """A Spreadsheet resource; `ranges` filters the sheets, `includeGridData` adds data."""
    with_data = query.get("includeGridData", ["false"])[0].lower() == "true"
    ranges = query.get("ranges", [])
    blocks: dict[int, list[JSON]] = {}
    for text in ranges:
        sheet, rng = resolve(book, text)
        block = grid_data(sheet, *clip(sheet, rng, text))
        blocks.setdefault(id(sheet), []).append(block)
    sheets = []
    for index, sheet in enumerate(book.worksheets):
        if ranges and id(sheet) not in blocks:
            continue
        entry: JSON = {"properties": sheet_properties(sheet, index)}
        if with_data:
            entry["data"] = blocks.get(id(sheet)) or [
                grid_data(sheet, 0, 0, sheet.grid_rows - 1, sheet.grid_columns - 1)
            ]
        sheets.append(entry)
    return {
        "spreadsheetId": book.key,
        "properties": {
            "title": book.title,
            "locale": "en_US",
            "autoRecalc": "ON_CHANGE",
            "timeZone": "Etc/GMT",
        },
        "sheets": sheets,
        "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{book.key}/edit",
    }
