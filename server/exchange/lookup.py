"""Finding an order by the client order id CTS gave it, on each exchange's own terms: the way a
lost answer is settled without ever sending the order twice."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from server.exchange.errors import ExchangeError, ExchangeFailure


async def order_by_client_id(
    instance: Any, exchange: str, client_order_id: str, symbol: str
) -> dict[str, Any] | None:
    """The raw ccxt order with this client order id, by each exchange's own query.

    - Binance (spot, cross margin and USDⓈ-M): ``GET order`` with ``origClientOrderId``, any
      status.
    - Bybit v5: ``GET /v5/order/realtime`` with ``orderLinkId`` (open orders, and closed
      ones among the account's recent 500), then ``GET /v5/order/history`` for older ones.
      ccxt's own fetch_order needs an order id and warns about that window.
    - OKX: ``GET /api/v5/trade/order`` with ``clOrdId``, any state.
    - BingX: the order query (spot ``trade/query``, swap ``trade/order``) with
      ``clientOrderID``, any status.
    - Kraken spot: ``OpenOrders``, then ``ClosedOrders``, each with ``cl_ord_id``;
      Kraken Futures: ``orders/status`` with ``cliOrdIds``.
    - Pionex: ``GET /api/v1/trade/orderByClientOrderId``, any state.
    - OrangeX: no query by ``custom_order_id``; CTS's class reads the market's open
      orders, then its finished ones (``fetch_order`` with ``clientOrderId``).
    Unknown orders raise OrderNotFound (Binance -2013, OKX 51603, BingX 80016) or come back
    empty.
    Only an order carrying exactly this client order id is taken. A filled order whose
    answer has no average price (Kraken Futures' ``orders/status``) gets it from its fills.
    """
    if exchange == "binance":
        candidates = [
            await instance.fetch_order("", symbol, {"origClientOrderId": client_order_id})
        ]
    elif exchange == "bybit":
        by_link = {"orderLinkId": client_order_id}
        candidates = await instance.fetch_open_orders(symbol, None, None, by_link)
        if not _with_client_id(candidates, client_order_id):
            candidates = await instance.fetch_canceled_and_closed_orders(
                symbol, None, None, by_link
            )
    elif exchange == "okx":
        candidates = [await instance.fetch_order("", symbol, {"clOrdId": client_order_id})]
    elif exchange == "bingx":
        by_client = {"clientOrderID": client_order_id}
        candidates = [await instance.fetch_order("", symbol, by_client)]
    elif exchange == "kraken" and instance.id == "krakenfutures":
        by_cli_ord_id = {"cliOrdIds": client_order_id}
        candidates = await instance.fetch_orders(symbol, None, None, by_cli_ord_id)
    elif exchange == "kraken":
        by_cl_ord_id = {"clientOrderId": client_order_id}  # sent as ``cl_ord_id``
        candidates = await instance.fetch_open_orders(symbol, None, None, by_cl_ord_id)
        if not _with_client_id(candidates, client_order_id):
            candidates = await instance.fetch_closed_orders(symbol, None, None, by_cl_ord_id)
    elif exchange in ("pionex", "orangex"):
        by_id = {"clientOrderId": client_order_id}
        candidates = [await instance.fetch_order("", symbol, by_id)]
    else:
        raise ExchangeError(
            ExchangeFailure.UNSUPPORTED,
            f"{exchange}: finding an order by its client order id is not supported",
            exchange=exchange,
        )
    return await with_average(instance, _with_client_id(candidates, client_order_id), symbol)


async def with_average(
    instance: Any, order: dict[str, Any] | None, symbol: str
) -> dict[str, Any] | None:
    """``order`` with its average fill price, from its fills where the answer has none."""
    if order is None or order.get("average") is not None or not order.get("filled"):
        return order
    fills = [t for t in await instance.fetch_my_trades(symbol) if t.get("order") == order["id"]]
    amount = sum((Decimal(str(t["amount"])) for t in fills), Decimal(0))
    if not amount:
        return order
    cost = sum((Decimal(str(t["amount"])) * Decimal(str(t["price"])) for t in fills), Decimal(0))
    return {**order, "average": str(cost / amount)}


def _with_client_id(orders: Sequence[Any], client_order_id: str) -> dict[str, Any] | None:
    """The order of ``orders`` (raw ccxt) that carries ``client_order_id``, if any."""
    return next(
        (o for o in orders if isinstance(o, dict) and o.get("clientOrderId") == client_order_id),
        None,
    )
