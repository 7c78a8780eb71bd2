"""Protobuf forms of account summaries, their stream and the PnL history."""

from __future__ import annotations

from decimal import Decimal

from cts.connection.v1 import account_pb2 as pb

from server.accounts.history import PnlHistory
from server.accounts.model import AccountSummary, Balance, Figures
from server.rpc.messages import decimal_text, stream_message, timestamp
from server.streams.watch import StreamItem


def _text(value: Decimal | None) -> str:
    return "" if value is None else decimal_text(value)


def balance_message(balance: Balance) -> pb.AccountBalance:
    message = pb.AccountBalance(
        equity=decimal_text(balance.equity),
        free=decimal_text(balance.free),
        used=decimal_text(balance.used),
        error=balance.error,
        unvalued_assets=list(balance.unvalued_assets),
    )
    if balance.read_at is not None:
        message.read_at.CopyFrom(timestamp(balance.read_at))
    return message


def figures_message(figures: Figures) -> pb.PositionFigures:
    return pb.PositionFigures(
        open_positions=figures.open_positions,
        realized_pnl_today=decimal_text(figures.realized_pnl_today),
        realized_pnl_total=decimal_text(figures.realized_pnl_total),
        unrealized_pnl=_text(figures.unrealized_pnl),
        open_notional=decimal_text(figures.open_notional),
    )


def summary_message(summary: AccountSummary) -> pb.AccountSummary:
    message = pb.AccountSummary(
        connection_id=summary.connection_id,
        quote_currency=summary.quote_currency,
        balance=balance_message(summary.balance),
        pseudo=figures_message(summary.pseudo),
        live=figures_message(summary.live),
    )
    if summary.updated_at is not None:
        message.updated_at.CopyFrom(timestamp(summary.updated_at))
    return message


def watch_summaries_message(
    item: StreamItem[AccountSummary],
) -> pb.WatchAccountSummariesResponse:
    return stream_message(
        item,
        pb.WatchAccountSummariesResponse,
        render=summary_message,
        items_field="summaries",
        item_field="summary",
    )


def pnl_history_message(history: PnlHistory) -> pb.PnlHistory:
    return pb.PnlHistory(
        bucket_seconds=history.bucket_seconds,
        since=timestamp(history.since),
        series=[
            pb.PnlSeries(
                quote_currency=series.quote_currency,
                points=[
                    pb.PnlPoint(
                        time=timestamp(point.time),
                        pseudo=decimal_text(point.pseudo),
                        live=decimal_text(point.live),
                    )
                    for point in series.points
                ],
            )
            for series in history.series
        ],
    )
