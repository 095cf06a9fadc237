"""Executemany of many rows given as tuples: on SQLite straight to the driver.

SQLAlchemy processes each row's parameters in Python (a dictionary per row, then every value
looked up and passed through its type's bind processor); for the hundred thousand albums of a
first sync that cost more than SQLite's own `executemany` (see the README's Performance
section). On SQLite the statement is compiled once and the rows go to the driver as tuples,
with only the values whose column type has a bind processor (dates, JSON, booleans) converted,
by the same processors SQLAlchemy would use. Other databases keep SQLAlchemy's path (on
PostgreSQL, psycopg's pipelined executemany; see the README's Performance section).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ValuesBase


def execute_rows(
    session: Session, statement: ValuesBase, keys: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Run an INSERT or UPDATE once per row; `keys` name each row's values in order (as the
    keys of the dictionaries `session.execute` would take: columns, and bind parameters such
    as an UPDATE's `_id`)."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "sqlite":
        session.execute(statement, [dict(zip(keys, row, strict=True)) for row in rows])
        return
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    names = compiled.positiontup or []
    at = {key: index for index, key in enumerate(keys)}
    order = [at[name] for name in names]
    pick: Callable[[Sequence[Any]], Any] = itemgetter(*order)
    if len(order) == 1:
        pick = lambda row: (row[order[0]],)  # noqa: E731 - itemgetter of one index is no tuple
    processors = [
        (position, _remembering(processor))
        for position, name in enumerate(names)
        if (processor := compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
    ]
    if processors:
        params: list[Any] = []
        for row in rows:
            values = list(pick(row))
            for position, process in processors:
                values[position] = process(values[position])
            params.append(tuple(values))
    else:
        params = [pick(row) for row in rows]
    connection.exec_driver_sql(compiled.string, params)


def _remembering(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The processor, remembering its last answer: a batch's timestamps are one datetime, and
    formatting it for every row cost as much as the rest of the row."""
    last: list[Any] = [object(), None]

    def remembered(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, process(value)
        return last[1]

    return remembered
