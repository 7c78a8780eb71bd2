"""Realised PnL over time: cumulative from ``since``, in buckets, pseudo and live apart, one
series per quote currency (money of different currencies is never added).

The range starts at ``since`` taken to the whole second (default: 7 days ago) and ends now.
Bucket ``i`` holds the positions closed in ``[since + i·b, since + (i+1)·b)``; its point is
stamped at its end and carries the realised PnL (net of fees) of everything closed from
``since`` up to that end. The sums are SQL aggregates (:meth:`AccountStore.pnl_buckets`).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from server.accounts.model import ZERO
from server.accounts.store import AccountStore
from server.engine.positions import Mode
from server.errors import InvalidArgument

DEFAULT_RANGE = timedelta(days=7)
TARGET_BUCKETS = 200  # bucket_seconds 0: at most this many buckets
MIN_BUCKET_SECONDS = 60
MAX_BUCKET_SECONDS = 86400
MAX_BUCKETS = 10_000  # a chosen bucket size may not cut the range finer than this


@dataclass(frozen=True, slots=True)
class PnlPoint:
    time: datetime
    pseudo: Decimal
    live: Decimal


@dataclass(frozen=True, slots=True)
class PnlSeries:
    quote_currency: str
    points: tuple[PnlPoint, ...]


@dataclass(frozen=True, slots=True)
class PnlHistory:
    bucket_seconds: int
    since: datetime
    series: tuple[PnlSeries, ...]


def parse_connection(text: str) -> uuid.UUID | None:
    """The connection of a history request: empty for every connection."""
    if not text:
        return None
    try:
        return uuid.UUID(text)
    except ValueError:
        raise InvalidArgument.field("connection_id", "is not a connection id (a UUID)") from None


def bucket_size(requested: int, seconds: float) -> int:
    """The bucket size for a range of ``seconds`` (INVALID_ARGUMENT naming bucket_seconds)."""
    if requested == 0:
        return max(MIN_BUCKET_SECONDS, math.ceil(seconds / TARGET_BUCKETS))
    if not MIN_BUCKET_SECONDS <= requested <= MAX_BUCKET_SECONDS:
        raise InvalidArgument.field(
            "bucket_seconds",
            f"must be 0 (chosen) or from {MIN_BUCKET_SECONDS} to {MAX_BUCKET_SECONDS}",
        )
    if seconds / requested > MAX_BUCKETS:
        raise InvalidArgument.field(
            "bucket_seconds",
            f"cuts the range since 'since' into more than {MAX_BUCKETS} buckets; "
            "choose larger buckets or a later since",
        )
    return requested


async def pnl_history(
    store: AccountStore,
    *,
    connection_id: uuid.UUID | None,
    since: datetime | None,
    bucket_seconds: int,
    now: datetime,
    quote_of: Callable[[str], str],
    quotes: set[str],
) -> PnlHistory:
    """The history of one connection (or all): ``quote_of`` gives each connection's quote
    currency, ``quotes`` those of the connections asked about (each gets a series)."""
    start = (since if since is not None else now - DEFAULT_RANGE).replace(microsecond=0)
    if start > now:
        raise InvalidArgument.field("since", "must not be in the future")
    seconds = (now - start).total_seconds()
    size = bucket_size(bucket_seconds, seconds)
    count = max(1, math.ceil(seconds / size))
    buckets = await store.pnl_buckets(connection_id=connection_id, since=start, bucket_seconds=size)
    per_quote: dict[str, dict[tuple[str, int], Decimal]] = {q: {} for q in quotes}
    for bucket in buckets:
        sums = per_quote.setdefault(quote_of(bucket.connection_id), {})
        key = (bucket.mode, bucket.bucket)
        sums[key] = sums.get(key, ZERO) + bucket.realized_pnl
    series = []
    for quote in sorted(per_quote):
        sums = per_quote[quote]
        pseudo = live = ZERO
        points = []
        for index in range(count):
            pseudo += sums.get((Mode.PSEUDO.value, index), ZERO)
            live += sums.get((Mode.LIVE.value, index), ZERO)
            points.append(PnlPoint(start + timedelta(seconds=size * (index + 1)), pseudo, live))
        series.append(PnlSeries(quote, tuple(points)))
    return PnlHistory(size, start, tuple(series))
