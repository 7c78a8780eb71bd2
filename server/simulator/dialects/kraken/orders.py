"""Kraken's private endpoints: balances, AddOrder, CancelOrder, OpenOrders, ClosedOrders,
QueryOrders and TradesHistory, over the simulator's ledger.

Orders are named as Kraken names them (``OABCDE-FGHIJ-KLMNOP``, trades ``T…``): the ledger's
order id written in base 32, so each name leads back to its order. Every ledger fill is whole,
so a filled order has exactly one trade. Client order ids: ``cl_ord_id`` (a UUID, with or
without dashes, or free text of at most 18 characters; unique among the account's open orders)
or ``userref`` (a signed 32-bit integer, not unique).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from server.simulator.dialects.kraken.errors import (
    DUPLICATE_ORDER,
    PERMISSION_DENIED,
    POST_ONLY,
    UNKNOWN_ORDER,
    KrakenError,
    invalid_arguments,
    refusal,
)
from server.simulator.dialects.kraken.market import fixed
from server.simulator.dialects.kraken.naming import Pair, asset_decimals, asset_id
from server.simulator.instruments import Instrument, Kind
from server.simulator.ledger import (
    ZERO,
    Account,
    Ledger,
    LedgerError,
    Order,
    OrderStatus,
    OrderType,
    Side,
)

if TYPE_CHECKING:
    from server.simulator.dialects.kraken.dialect import KrakenDialect

Json = dict[str, Any]
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
TXID = re.compile(r"^[OT][A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7]{6}$")
CL_ORD_ID = re.compile(
    r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|[0-9a-fA-F]{32}|[\x21-\x7e]{1,18})$"
)
PAGE = 50
STATUS = {OrderStatus.OPEN: "open", OrderStatus.FILLED: "closed", OrderStatus.CANCELED: "canceled"}
SUPPORTED_FLAGS = {"post", "fcib", "fciq", "nompp", "viqc"}
INT32 = (-(2**31), 2**31 - 1)


def txid(prefix: str, ledger_id: str) -> str:
    number, chars = int(ledger_id), []
    for _ in range(16):
        number, digit = divmod(number, 32)
        chars.append(ALPHABET[digit])
    text = "".join(reversed(chars))
    return f"{prefix}{text[:5]}-{text[5:10]}-{text[10:]}"


def ledger_id(name: str) -> str | None:
    """The ledger's order id behind an order or trade txid, or None if it is not one."""
    if not TXID.match(name):
        return None
    number = 0
    for char in name[1:].replace("-", ""):
        number = number * 32 + ALPHABET.index(char)
    return str(number)


@dataclass(frozen=True, slots=True)
class OrderWire:
    """What Kraken echoes about an order that the ledger does not keep."""

    userref: int | None
    cl_ord_id: str | None
    oflags: str
    time_in_force: str
    rested: bool = False  # it went on the book (so it fills as a maker)


class Trading:
    def __init__(self, dialect: KrakenDialect) -> None:
        self.dialect = dialect
        self._wire: dict[str, OrderWire] = {}

    @property
    def ledger(self) -> Ledger:
        return self.dialect.ledger

    # -- balances -----------------------------------------------------------------------------

    def balance(self, account: Account, _params: Mapping[str, str]) -> Json:
        """POST /0/private/Balance: the total of each asset."""
        self.ledger.match(account)
        return {
            asset_id(code): fixed(b.total, asset_decimals(code))
            for code, b in account.balances.items()
        }

    def balance_ex(self, account: Account, _params: Mapping[str, str]) -> Json:
        """POST /0/private/BalanceEx: total and the part held by open orders."""
        self.ledger.match(account)
        return {
            asset_id(code): {
                "balance": fixed(b.total, asset_decimals(code)),
                "hold_trade": fixed(b.locked, asset_decimals(code)),
            }
            for code, b in account.balances.items()
        }

    # -- placing and cancelling ---------------------------------------------------------------

    def add_order(self, account: Account, params: Mapping[str, str]) -> Json:
        """POST /0/private/AddOrder (market and limit; GTC and IOC; post, viqc flags)."""
        if not account.permissions.spot:
            raise KrakenError(PERMISSION_DENIED)
        request = OrderRequest.read(params, self.dialect.one_pair(params).instrument)
        if request.cl_ord_id is not None and any(
            w.cl_ord_id == request.cl_ord_id
            for oid, w in self._wire.items()
            if oid in account.orders and account.orders[oid].status is OrderStatus.OPEN
        ):
            raise KrakenError(DUPLICATE_ORDER)
        instrument = request.instrument
        self.ledger.match(account)
        bid, ask = self.ledger.bid_ask(instrument)
        amount = request.volume
        if request.viqc:
            amount = instrument.floor_amount(
                request.volume / (ask if request.side is Side.BUY else bid)
            )
        if "post" in request.oflags and request.price is not None:
            takes = request.price >= ask if request.side is Side.BUY else request.price <= bid
            if takes:
                raise KrakenError(POST_ONLY)
        if params.get("validate") in ("true", "1", "True"):
            return {"descr": {"order": request.description(amount)}}
        try:
            order = self.ledger.place(
                account, instrument, request.side, request.type, amount, price=request.price
            )
            if request.time_in_force == "IOC" and order.status is OrderStatus.OPEN:
                self.ledger.cancel(account, order_id=order.id)
        except LedgerError as error:
            raise refusal(error) from None
        oflags = ",".join(sorted(request.oflags | {"fciq"}))
        rested = order.type is OrderType.LIMIT and order.filled == 0
        self._wire[order.id] = OrderWire(
            request.userref, request.cl_ord_id, oflags, request.time_in_force, rested
        )
        result: Json = {
            "descr": {"order": request.description(order.amount)},
            "txid": [txid("O", order.id)],
        }
        return result

    def cancel_order(self, account: Account, params: Mapping[str, str]) -> Json:
        """POST /0/private/CancelOrder by ``txid`` (an order id or a userref) or ``cl_ord_id``."""
        if not account.permissions.spot:
            raise KrakenError(PERMISSION_DENIED)
        self.ledger.match(account)
        wanted = params.get("txid")
        cl_ord_id = params.get("cl_ord_id")
        if cl_ord_id:
            targets = [o for o in self._orders(account) if self._wire_of(o).cl_ord_id == cl_ord_id]
        elif wanted and ledger_id(wanted) is not None:
            found = account.orders.get(ledger_id(wanted) or "")
            targets = [found] if found is not None else []
        elif wanted and re.fullmatch(r"-?\d+", wanted):
            targets = [o for o in self._orders(account) if self._wire_of(o).userref == int(wanted)]
        elif wanted:
            raise invalid_arguments("txid")
        else:
            raise KrakenError("EGeneral:Invalid arguments:txid")
        open_ones = [o for o in targets if o.status is OrderStatus.OPEN]
        if not open_ones:
            raise KrakenError(UNKNOWN_ORDER)
        for order in open_ones:
            self.ledger.cancel(account, order_id=order.id)
        return {"count": len(open_ones)}

    # -- queries ------------------------------------------------------------------------------

    def open_orders(self, account: Account, params: Mapping[str, str]) -> Json:
        """POST /0/private/OpenOrders (``userref``, ``cl_ord_id``, ``trades`` filters)."""
        self.ledger.match(account)
        orders = [o for o in self._filtered(account, params) if o.status is OrderStatus.OPEN]
        return {"open": {txid("O", o.id): self.view(o, params) for o in orders}}

    def closed_orders(self, account: Account, params: Mapping[str, str]) -> Json:
        """POST /0/private/ClosedOrders: filled and cancelled orders, newest first, 50 a page
        (``ofs``), between ``start`` and ``end`` (seconds)."""
        self.ledger.match(account)
        start, end = _seconds(params, "start"), _seconds(params, "end")
        closed = [
            o
            for o in self._filtered(account, params)
            if o.status is not OrderStatus.OPEN
            and (start is None or o.updated_ms / 1000 > start)
            and (end is None or o.updated_ms / 1000 <= end)
        ]
        offset = _offset(params)
        page = closed[offset : offset + PAGE]
        return {
            "closed": {txid("O", o.id): self.view(o, params) for o in page},
            "count": len(closed),
        }

    def query_orders(self, account: Account, params: Mapping[str, str]) -> Json:
        """POST /0/private/QueryOrders: up to 50 orders by txid; unknown ones are left out."""
        names = [n for n in (params.get("txid") or "").split(",") if n]
        if not names:
            raise invalid_arguments("txid")
        if len(names) > 50:
            raise invalid_arguments("txid")
        self.ledger.match(account)
        found = {}
        for name in names:
            order_id = ledger_id(name)
            if order_id is None or name[0] != "O":
                raise invalid_arguments("txid")
            order = account.orders.get(order_id)
            if order is not None and order.instrument.kind is Kind.SPOT:
                found[name] = self.view(order, params)
        return found

    def trades_history(self, account: Account, params: Mapping[str, str]) -> Json:
        """POST /0/private/TradesHistory: the account's trades, newest first, 50 a page."""
        self.ledger.match(account)
        start, end = _seconds(params, "start"), _seconds(params, "end")
        filled = [
            o
            for o in self._orders(account)
            if o.filled > 0
            and (start is None or o.updated_ms / 1000 > start)
            and (end is None or o.updated_ms / 1000 <= end)
        ]
        offset = _offset(params)
        page = filled[offset : offset + PAGE]
        return {"trades": {txid("T", o.id): self._trade(o) for o in page}, "count": len(filled)}

    def _orders(self, account: Account) -> list[Order]:
        spot = [o for o in account.orders.values() if o.instrument.kind is Kind.SPOT]
        return sorted(spot, key=lambda o: (o.updated_ms, int(o.id)), reverse=True)

    def _filtered(self, account: Account, params: Mapping[str, str]) -> list[Order]:
        userref, cl_ord_id = params.get("userref"), params.get("cl_ord_id")
        return [
            o
            for o in self._orders(account)
            if (not userref or str(self._wire_of(o).userref) == userref)
            and (not cl_ord_id or self._wire_of(o).cl_ord_id == cl_ord_id)
        ]

    def _wire_of(self, order: Order) -> OrderWire:
        return self._wire.get(order.id) or OrderWire(None, None, "fciq", "GTC")

    def view(self, order: Order, params: Mapping[str, str]) -> Json:
        """One order as Kraken's order queries show it."""
        pair = self.dialect.pairs.of(order.instrument)
        wire = self._wire_of(order)
        places = pair.price_decimals
        limit = order.type is OrderType.LIMIT and order.price is not None
        price = fixed(order.price, places) if limit and order.price is not None else "0"
        closed = order.status is not OrderStatus.OPEN
        view: Json = {
            "refid": None,
            "userref": wire.userref,
            "status": STATUS[order.status],
            "reason": "User requested" if order.status is OrderStatus.CANCELED else None,
            "opentm": order.created_ms / 1000,
            "starttm": 0,
            "expiretm": 0,
            "descr": {
                "pair": pair.id,
                "type": order.side.value,
                "ordertype": order.type.value,
                "price": price,
                "price2": "0",
                "leverage": "none",
                "order": describe(order.side, order.amount, pair.id, order.type, price),
                "close": "",
            },
            "vol": fixed(order.amount, 8),
            "vol_exec": fixed(order.filled, 8),
            "cost": fixed(order.filled * (order.average or ZERO), 5),
            "fee": fixed(order.fee, 5),
            "price": fixed(order.average or ZERO, places),
            "stopprice": "0.00000",
            "limitprice": "0.00000",
            "misc": "",
            "oflags": wire.oflags,
        }
        if wire.cl_ord_id is not None:
            view["cl_ord_id"] = wire.cl_ord_id
        if closed:
            view["closetm"] = order.updated_ms / 1000
        if params.get("trades") in ("true", "True", "1") and order.filled > 0:
            view["trades"] = [txid("T", order.id)]
        return view

    def _trade(self, order: Order) -> Json:
        pair = self.dialect.pairs.of(order.instrument)
        maker = self._wire_of(order).rested
        average = order.average or ZERO
        return {
            "ordertxid": txid("O", order.id),
            "postxid": txid("T", str(int(order.id) + 7)),
            "pair": pair.id,
            "time": order.updated_ms / 1000,
            "type": order.side.value,
            "ordertype": order.type.value,
            "price": fixed(average, pair.price_decimals),
            "cost": fixed(order.filled * average, 5),
            "fee": fixed(order.fee, 5),
            "vol": fixed(order.filled, 8),
            "margin": "0.00000",
            "leverage": "0",
            "misc": "",
            "trade_id": int(order.id),
            "maker": maker,
        }


def describe(side: Side, amount: Decimal, pair_id: str, order_type: OrderType, price: str) -> str:
    """Kraken's one-line description: ``buy 0.00100000 XBTUSDT @ limit 60000.0``."""
    tail = f"limit {price}" if order_type is OrderType.LIMIT else "market"
    return f"{side.value} {fixed(amount, 8)} {pair_id} @ {tail}"


def _seconds(params: Mapping[str, str], name: str) -> float | None:
    value = params.get(name)
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise invalid_arguments(name) from None


def _offset(params: Mapping[str, str]) -> int:
    try:
        offset = int(params.get("ofs") or 0)
    except ValueError:
        raise invalid_arguments("ofs") from None
    if offset < 0:
        raise invalid_arguments("ofs")
    return offset


def _decimal(params: Mapping[str, str], name: str) -> Decimal | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise invalid_arguments(name) from None
    if not number.is_finite():
        raise invalid_arguments(name)
    return number


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """An AddOrder request, validated as Kraken validates it."""

    instrument: Instrument
    pair_id: str
    side: Side
    type: OrderType
    volume: Decimal
    price: Decimal | None
    oflags: frozenset[str]
    time_in_force: str
    userref: int | None
    cl_ord_id: str | None

    @property
    def viqc(self) -> bool:
        return "viqc" in self.oflags

    def description(self, amount: Decimal) -> str:
        places = self.instrument.decimals(self.instrument.price_tick)
        price = fixed(self.price, places) if self.price is not None else "0"
        return describe(self.side, amount, self.pair_id, self.type, price)

    @classmethod
    def read(cls, params: Mapping[str, str], instrument: Instrument) -> OrderRequest:
        pair = Pair(instrument)
        side = {"buy": Side.BUY, "sell": Side.SELL}.get(params.get("type") or "")
        if side is None:
            raise invalid_arguments("type")
        order_type = {"market": OrderType.MARKET, "limit": OrderType.LIMIT}.get(
            params.get("ordertype") or ""
        )
        if order_type is None:
            raise invalid_arguments("ordertype")
        if params.get("leverage") not in (None, "", "none"):
            raise KrakenError("EGeneral:Invalid arguments:leverage")
        if params.get("reduce_only") in ("true", "True", "1"):
            raise KrakenError("EGeneral:Invalid arguments:reduce_only")
        volume = _decimal(params, "volume")
        if volume is None or volume <= 0:
            raise invalid_arguments("volume")
        oflags = frozenset(f for f in (params.get("oflags") or "").split(",") if f)
        if not oflags <= SUPPORTED_FLAGS:
            raise invalid_arguments("oflags")
        if "viqc" in oflags and order_type is not OrderType.MARKET:
            raise invalid_arguments("viqc")
        price = _decimal(params, "price") if order_type is OrderType.LIMIT else None
        if order_type is OrderType.LIMIT:
            if price is None or price <= 0:
                raise KrakenError("EGeneral:Invalid arguments:price")
            if price % instrument.price_tick != 0:
                raise KrakenError(
                    f"EOrder:Invalid price:{pair.id} price can only be specified up to "
                    f"{pair.price_decimals} decimals."
                )
        if "viqc" not in oflags and volume % instrument.amount_step != 0:
            raise invalid_arguments("volume")
        time_in_force = params.get("timeinforce") or "GTC"
        if time_in_force not in ("GTC", "IOC"):
            raise invalid_arguments("timeinforce")
        userref: int | None = None
        if params.get("userref"):
            try:
                userref = int(params["userref"])
            except ValueError:
                raise invalid_arguments("userref") from None
            if not INT32[0] <= userref <= INT32[1]:
                raise invalid_arguments("userref")
        cl_ord_id = params.get("cl_ord_id") or None
        if cl_ord_id is not None:
            if userref is not None:
                raise invalid_arguments("cl_ord_id")
            if not CL_ORD_ID.match(cl_ord_id):
                raise invalid_arguments("cl_ord_id")
        return cls(
            instrument,
            pair.id,
            side,
            order_type,
            volume,
            price,
            oflags,
            time_in_force,
            userref,
            cl_ord_id,
        )
