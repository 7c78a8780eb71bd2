"""Exact sums of money in SQL, on SQLite and PostgreSQL alike.

PostgreSQL sums NUMERIC exactly. SQLite keeps money as exact text (:class:`DecimalType`) and its
``SUM`` would add binary floats, so every SQLite connection gets an aggregate ``decimal_sum``
that adds the texts as :class:`~decimal.Decimal` and answers text again. :func:`money_sum` picks
the right one for a dialect; its result reads back as ``Decimal`` (None over no rows).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, type_coerce
from sqlalchemy.sql.elements import ColumnElement

from server.storage.types import DecimalType


class DecimalSum:
    """SQLite aggregate ``decimal_sum(text)``: the exact sum of decimal texts (NULLs skipped;
    None when every value was NULL)."""

    def __init__(self) -> None:
        self._total: Decimal | None = None

    def step(self, value: Any) -> None:
        if value is None:
            return
        self._total = (self._total or Decimal(0)) + Decimal(str(value))

    def finalize(self) -> str | None:
        return None if self._total is None else format(self._total, "f")


def money_sum(column: Any, dialect: str) -> ColumnElement[Decimal]:
    """The exact sum of a money column (or expression) for ``dialect`` (``Database.dialect``)."""
    if dialect == "sqlite":
        return type_coerce(func.decimal_sum(column), DecimalType)
    return type_coerce(func.sum(column), DecimalType)
