"""Prices → protobuf (MarketService)."""

from __future__ import annotations

from decimal import Decimal

from cts.monitoring.v1 import market_pb2 as pb
from cts.stream.v1 import stream_pb2

from server.monitoring.prices import Price, PriceList, PriceRound
from server.rpc.engine_messages import feed_health_message
from server.rpc.messages import capped32, decimal_text, timestamp


def _text(value: Decimal | None) -> str:
    return decimal_text(value) if value is not None else ""


def price_message(price: Price) -> pb.Price:
    return pb.Price(
        exchange=price.source.exchange,
        api_type=price.source.api_type,
        is_simulated=price.source.simulated,
        testnet=price.source.testnet,
        symbol=price.symbol,
        last=decimal_text(price.last),
        bid=_text(price.bid),
        ask=_text(price.ask),
        change_percent=_text(price.change_percent),
        quote_volume=_text(price.quote_volume),
        price_time=timestamp(price.price_time),
        fetch_time=timestamp(price.fetch_time),
    )


def price_list_message(answer: PriceList) -> pb.ListPricesResponse:
    return pb.ListPricesResponse(
        prices=[price_message(p) for p in answer.prices],
        unpriced_symbols=answer.unpriced,
        feeds=[feed_health_message(f) for f in answer.feeds],
    )


def watch_prices_message(item: PriceRound | None) -> pb.WatchPricesResponse:
    """One stream message; None is a heartbeat."""
    message = pb.WatchPricesResponse()
    message.event_time.GetCurrentTime()
    if item is None:
        message.heartbeat.CopyFrom(stream_pb2.Heartbeat())
        return message
    round_ = message.snapshot if item.snapshot else message.changes
    round_.round = capped32(item.round)
    round_.prices.extend(price_message(p) for p in item.prices)
    round_.error = item.error
    round_.unknown_symbols.extend(item.unknown)
    round_.SetInParent()  # an empty snapshot is still a snapshot
    return message
