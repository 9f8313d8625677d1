"""Queries every list shares: windows of ``from``/``to`` (inclusive, as the contract's
searches take them), ``field:direction`` sorts with a stable tiebreak, totals that stay cheap
on large result sets, and filters read with the domain's vocabulary."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, func, literal, select

from sentoffers.contract import Paging
from sentoffers.domain.errors import InvalidInput, Problem

MAX_PAGE = 100
DEFAULT_PAGE = 20
# Counting stops here: past it, the total says "at least" (``totalIsExact`` false).
COUNT_CAP = 10_000


@dataclass(frozen=True, slots=True)
class Window:
    start: int
    size: int

    @property
    def end(self) -> int:
        return self.start + self.size - 1


def window(start: int | None, end: int | None, *, default: int = DEFAULT_PAGE) -> Window:
    """The items ``from``..``to`` (inclusive); at most ``MAX_PAGE`` of them."""
    first = start or 0
    if end is None:
        return Window(first, default)
    if end < first:
        raise InvalidInput(
            f"'to' ({end}) must not be before 'from' ({first})", code="invalid_range", field="to"
        )
    size = end - first + 1
    if size > MAX_PAGE:
        raise InvalidInput(
            f"a page holds at most {MAX_PAGE} items; asked for {size}",
            code="invalid_range",
            field="to",
        )
    return Window(first, size)


def split_sort(sort: str) -> tuple[str, str]:
    """``field:direction`` as its field and its direction (``asc`` when left out), each
    trimmed, the direction lower-case; neither is checked."""
    name, _, direction = sort.strip().partition(":")
    return name.strip(), (direction or "asc").strip().lower()


def order_by(
    sort: str | None,
    fields: Mapping[str, ColumnElement[Any]],
    default: str,
    tiebreak: ColumnElement[Any],
) -> list[ColumnElement[Any]]:
    """ORDER BY clauses for ``field:direction``; a stable tiebreak keeps pages disjoint.

    Missing values sort last in either direction, the same on every store.
    """
    name, direction = split_sort(sort or default)
    problems = []
    column = fields.get(name)
    if column is None:
        problems.append(
            Problem(
                "invalid_sort",
                f"cannot sort by {name!r}; choose one of: {', '.join(sorted(fields))}",
                "sort",
            )
        )
    if direction not in ("asc", "desc"):
        problems.append(Problem("invalid_sort", "the direction must be asc or desc", "sort"))
    if problems:
        raise InvalidInput.of(problems)
    assert column is not None
    ordered = column.desc() if direction == "desc" else column.asc()
    # Only where a value can be missing: NULLS LAST on a NOT NULL column would stop
    # PostgreSQL from walking a B-tree backwards for a DESC order.
    if getattr(column, "nullable", True):
        ordered = ordered.nulls_last()
    return [ordered, tiebreak.desc() if direction == "desc" else tiebreak.asc()]


def paging(total: int, exact: bool, win: Window, returned: int) -> Paging:
    """The range answered: ``to`` is the last item returned (``from`` when none was)."""
    return Paging(
        total=total,
        total_is_exact=exact,
        from_=win.start,
        to=max(win.start + returned - 1, win.start),
    )


def count_capped(conn: Connection, query: Select[Any], cap: int = COUNT_CAP) -> tuple[int, bool]:
    """How many rows ``query`` has, counting no further than ``cap``."""
    # Only a constant is selected, so an index holding the filtered columns can answer alone.
    limited = query.with_only_columns(literal(1)).order_by(None).limit(cap + 1).subquery()
    total = conn.execute(select(func.count()).select_from(limited)).scalar_one()
    return (cap, False) if total > cap else (int(total), True)


def parse_each(
    values: Sequence[str],
    parse: Callable[[str], StrEnum],
    field: str,
    problems: list[Problem],
) -> list[str]:
    """Each value read with a vocabulary parser; what cannot be read joins ``problems``."""
    out = []
    for value in values:
        try:
            out.append(parse(value).value)
        except ValueError as error:
            problems.append(Problem("invalid", str(error), field))
    return out
