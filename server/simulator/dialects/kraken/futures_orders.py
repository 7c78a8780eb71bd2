"""Kraken Futures' private endpoints over the simulator's ledger: accounts, sendorder,
cancelorder, openorders, openpositions, orders/status and fills.

Order ids are UUIDs that carry the ledger's order id (so each leads back to its order); every
ledger fill is whole, so a filled order has one execution and one fill.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from multidict import MultiDict

from server.simulator.dialects.kraken.futures_common import (
    FuturesError,
    futures_code,
    iso,
    market_id,
)
from server.simulator.instruments import QUOTE, Instrument
from server.simulator.ledger import (
    ZERO,
    Account,
    InsufficientFunds,
    InvalidOrder,
    Ledger,
    LedgerError,
    Order,
    OrderStatus,
    OrderType,
    Side,
)

if TYPE_CHECKING:
    from server.simulator.dialects.kraken.futures import KrakenFuturesDialect

Json = dict[str, Any]
Params = MultiDict[str]
ORDER_TYPES = {"mkt": OrderType.MARKET, "lmt": OrderType.LIMIT, "post": OrderType.LIMIT}
ORDER_TYPES["ioc"] = OrderType.LIMIT
MAX_CLIENT_ID = 100
MASK = 0x5A17_C0DE_0000_0000_0000_0000_0000_0000


def order_uuid(ledger_id: str, salt: int = 0) -> str:
    return str(uuid.UUID(int=(int(ledger_id) * 4 + salt) ^ MASK))


def ledger_id(order_id: str) -> str | None:
    try:
        number = uuid.UUID(order_id).int ^ MASK
    except ValueError:
        return None
    return str(number // 4) if number % 4 == 0 else None


@dataclass(frozen=True, slots=True)
class Wire:
    order_type: str
    cli_ord_id: str | None
    rested: bool


class Refused(Exception):
    """An order action refused with one of Kraken's sendStatus/cancelStatus codes."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


class FuturesTrading:
    def __init__(self, dialect: KrakenFuturesDialect) -> None:
        self.dialect = dialect
        self._wire: dict[str, Wire] = {}

    @property
    def ledger(self) -> Ledger:
        return self.dialect.ledger

    def _iso(self, ms: float) -> str:
        return iso(ms)

    def open_interest(self, instrument: Instrument) -> Decimal:
        return sum(
            (
                abs(p.size)
                for a in self.ledger.accounts.values()
                for p in a.positions.values()
                if p.instrument == instrument
            ),
            ZERO,
        )

    # -- accounts -----------------------------------------------------------------------------

    def accounts(self, account: Account, _params: Params) -> Json:
        """GET accounts: the flex (multi-collateral) account holds the wallet."""
        positions = self.ledger.positions(account)
        unrealized = sum(
            (p.unrealized(self.ledger.last_price(p.instrument)) for p in positions), ZERO
        )
        margin = sum((p.margin for p in positions), ZERO)
        currencies = {}
        value_total = ZERO
        for code, balance in account.balances.items():
            price = Decimal(1) if code == QUOTE else self._usd(code)
            value = balance.total * price
            value_total += value
            currencies[futures_code(code)] = {
                "quantity": float(balance.total),
                "value": float(value),
                "collateral_value": float(value),
                "available": float(balance.free),
                "haircut": 0.0,
                "conversion_spread": 0.0,
            }
        usdt = account.balance(QUOTE)
        return {
            "accounts": {
                "cash": {"type": "cashAccount", "balances": {}},
                "flex": {
                    "type": "multiCollateralMarginAccount",
                    "currencies": currencies,
                    "initialMargin": float(margin),
                    "initialMarginWithOrders": float(margin + self._order_margin(account)),
                    "maintenanceMargin": float(margin / 2),
                    "balanceValue": float(value_total),
                    "portfolioValue": float(value_total + unrealized),
                    "collateralValue": float(value_total),
                    "pnl": float(unrealized),
                    "unrealizedFunding": 0.0,
                    "totalUnrealized": float(unrealized),
                    "totalUnrealizedAsMargin": float(unrealized),
                    "availableMargin": float(usdt.free),
                    "marginEquity": float(value_total + unrealized),
                },
            }
        }

    def _usd(self, code: str) -> Decimal:
        try:
            return self.dialect.simulator.prices.price(code)
        except KeyError:  # an asset without a market is worth nothing as collateral here
            return ZERO

    def _order_margin(self, account: Account) -> Decimal:
        return sum((o.locked for o in self.ledger.open_orders(account)), ZERO)

    # -- orders -------------------------------------------------------------------------------

    def send_order(self, account: Account, params: Params) -> Json:
        """POST sendorder: an order, or a refusal as ``sendStatus.status``."""
        received = self._iso(self.dialect.now_ms())
        try:
            order, rested_event = self._place(account, params)
        except Refused as refused:
            return {
                "sendStatus": {
                    "status": refused.status,
                    "receivedTime": received,
                    "orderEvents": [],
                }
            }
        oid = order_uuid(order.id)
        event: Json
        if rested_event:
            event = {
                "type": "PLACE",
                "uid": oid,
                "order": self._order(order),
                "reducedQuantity": None,
            }
        else:
            event = {
                "type": "EXECUTION",
                "executionId": order_uuid(order.id, 1),
                "price": float(order.average or ZERO),
                "amount": float(order.filled),
                "orderPriorEdit": None,
                "orderPriorExecution": self._order(order, prior=True),
                "takerReducedQuantity": None,
            }
        status = {
            "order_id": oid,
            "status": "placed",
            "receivedTime": received,
            "orderEvents": [event],
        }
        return {"sendStatus": status}

    def _place(self, account: Account, params: Params) -> tuple[Order, bool]:
        if not account.permissions.derivatives:
            raise FuturesError("apiKeyAccessDenied")
        order_type = params.get("orderType", "")
        if order_type not in ORDER_TYPES:
            raise Refused("invalidOrderType")
        instrument = self.dialect.instrument(params.get("symbol"))
        side = {"buy": Side.BUY, "sell": Side.SELL}.get(params.get("side", ""))
        if side is None:
            raise Refused("invalidSide")
        size = _decimal(params.get("size"))
        if size is None or size <= 0 or size % instrument.amount_step != 0:
            raise Refused("invalidSize")
        price = _decimal(params.get("limitPrice"))
        if order_type != "mkt" and (price is None or price <= 0 or price % instrument.price_tick):
            raise Refused("invalidPrice")
        cli_ord_id = params.get("cliOrdId") or None
        if cli_ord_id is not None:
            if len(cli_ord_id) > MAX_CLIENT_ID:
                raise Refused("clientOrderIdTooLong")
            if any(
                self._wire_of(o).cli_ord_id == cli_ord_id for o in self.ledger.open_orders(account)
            ):
                raise Refused("clientOrderIdAlreadyExist")
        bid, ask = self.ledger.bid_ask(instrument)
        crosses = price is not None and (price >= ask if side is Side.BUY else price <= bid)
        if order_type == "post" and crosses:
            raise Refused("postWouldExecute")
        if order_type == "ioc" and not crosses:
            raise Refused("iocWouldNotExecute")
        reduce_only = params.get("reduceOnly") in ("true", "True", "1")
        try:
            order = self.ledger.place(
                account,
                instrument,
                side,
                ORDER_TYPES[order_type],
                size,
                price=None if order_type == "mkt" else price,
                reduce_only=reduce_only,
            )
        except InsufficientFunds:
            raise Refused("insufficientAvailableFunds") from None
        except InvalidOrder as error:
            raise Refused(
                "wouldNotReducePosition" if "reduce" in str(error) else "invalidSize"
            ) from None
        except LedgerError:
            raise Refused("invalidSize") from None
        rested = order.status is OrderStatus.OPEN
        self._wire[order.id] = Wire(order_type, cli_ord_id, rested)
        return order, rested

    def cancel_order(self, account: Account, params: Params) -> Json:
        """POST cancelorder by ``order_id`` or ``cliOrdId``."""
        received = self._iso(self.dialect.now_ms())
        order = self._find(account, params.get("order_id"), params.get("cliOrdId"))
        if order is None or order.status is not OrderStatus.OPEN:
            status = (
                "filled" if order is not None and order.status is OrderStatus.FILLED else "notFound"
            )
            return {"cancelStatus": {"status": status, "receivedTime": received}}
        self.ledger.cancel(account, order_id=order.id)
        oid = order_uuid(order.id)
        event = {"uid": oid, "order": self._order(order), "type": "CANCEL"}
        return {
            "cancelStatus": {
                "status": "cancelled",
                "order_id": oid,
                "receivedTime": received,
                "orderEvents": [event],
            }
        }

    def _find(self, account: Account, order_id: str | None, cli_ord_id: str | None) -> Order | None:
        if order_id:
            return account.orders.get(ledger_id(order_id) or "")
        if cli_ord_id:
            matching = [
                o for o in account.orders.values() if self._wire_of(o).cli_ord_id == cli_ord_id
            ]
            return max(matching, key=lambda o: o.created_ms, default=None)
        return None

    # -- queries ------------------------------------------------------------------------------

    def open_orders(self, account: Account, _params: Params) -> Json:
        """GET openorders"""
        self.ledger.match(account)
        return {
            "openOrders": [
                self._open_view(o) for o in self._linear(self.ledger.open_orders(account))
            ]
        }

    def open_positions(self, account: Account, _params: Params) -> Json:
        """GET openpositions"""
        return {
            "openPositions": [
                {
                    "side": "long" if p.size > 0 else "short",
                    "symbol": market_id(p.instrument),
                    "price": float(p.entry_price),
                    "fillTime": self._iso(p.updated_ms),
                    "size": float(abs(p.size)),
                    "unrealizedFunding": 0.0,
                    "pnlCurrency": "USD",
                }
                for p in self.ledger.positions(account)
            ]
        }

    def orders_status(self, account: Account, params: Params) -> Json:
        """GET orders/status by ``orderIds`` or ``cliOrdIds`` (repeated); open orders without."""
        self.ledger.match(account)
        ids, cli_ids = params.getall("orderIds", []), params.getall("cliOrdIds", [])
        if ids or cli_ids:
            found = [self._find(account, i, None) for i in ids]
            found += [self._find(account, None, c) for c in cli_ids]
            orders = [o for o in found if o is not None]
        else:
            orders = self.ledger.open_orders(account)
        states = {
            OrderStatus.OPEN: "ENTERED_BOOK",
            OrderStatus.FILLED: "FULLY_EXECUTED",
            OrderStatus.CANCELED: "CANCELLED",
        }
        return {
            "orders": [
                {
                    "order": {"type": "ORDER", **self._order(o)},
                    "status": states[o.status],
                    "updateReason": None,
                    "error": None,
                }
                for o in self._linear(orders)
            ]
        }

    def fills(self, account: Account, _params: Params) -> Json:
        """GET fills: the account's fills, newest first."""
        self.ledger.match(account)
        filled = sorted(
            (o for o in self._linear(account.orders.values()) if o.filled > 0),
            key=lambda o: o.updated_ms,
            reverse=True,
        )
        return {
            "fills": [
                {
                    "fill_id": order_uuid(o.id, 2),
                    "symbol": market_id(o.instrument),
                    "side": o.side.value,
                    "order_id": order_uuid(o.id),
                    "cliOrdId": self._wire_of(o).cli_ord_id,
                    "size": float(o.filled),
                    "price": float(o.average or ZERO),
                    "fillTime": self._iso(o.updated_ms),
                    "fillType": "maker" if self._wire_of(o).rested else "taker",
                }
                for o in filled
            ]
        }

    # -- views --------------------------------------------------------------------------------

    def _linear(self, orders: Any) -> list[Order]:
        markets = set(self.dialect.markets.values())
        return [o for o in orders if o.instrument in markets]

    def _wire_of(self, order: Order) -> Wire:
        return self._wire.get(order.id) or Wire("lmt", None, False)

    def _order(self, order: Order, *, prior: bool = False) -> Json:
        wire = self._wire_of(order)
        price = order.price if order.price is not None else order.average
        return {
            "orderId": order_uuid(order.id),
            "cliOrdId": wire.cli_ord_id,
            "type": "ioc" if wire.order_type == "mkt" else wire.order_type,
            "symbol": market_id(order.instrument),
            "side": order.side.value,
            "quantity": float(order.amount),
            "filled": 0.0 if prior else float(order.filled),
            "limitPrice": float(price or ZERO),
            "reduceOnly": order.reduce_only,
            "timestamp": self._iso(order.created_ms),
            "lastUpdateTimestamp": self._iso(order.updated_ms),
        }

    def _open_view(self, order: Order) -> Json:
        return {
            "order_id": order_uuid(order.id),
            "cliOrdId": self._wire_of(order).cli_ord_id,
            "symbol": market_id(order.instrument),
            "side": order.side.value,
            "orderType": self._wire_of(order).order_type,
            "limitPrice": float(order.price or ZERO),
            "unfilledSize": float(order.remaining),
            "receivedTime": self._iso(order.created_ms),
            "status": "untouched",
            "filledSize": float(order.filled),
            "reduceOnly": order.reduce_only,
            "lastUpdateTime": self._iso(order.updated_ms),
        }


def _decimal(value: str | None) -> Decimal | None:
    if not value:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None
