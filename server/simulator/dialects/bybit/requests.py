"""A new order as Bybit validates it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from server.simulator.dialects.bybit.errors import BybitError, params_error
from server.simulator.dialects.bybit.wire import TIME_IN_FORCE, UNSUPPORTED_ORDER_PARAMS, Params
from server.simulator.instruments import Instrument, Kind
from server.simulator.ledger import OrderType, Side


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A /v5/order/create request, validated as Bybit validates it."""

    instrument: Instrument
    side: Side
    type: OrderType
    qty: Decimal
    price: Decimal | None
    order_link_id: str
    time_in_force: str
    market_unit: str
    reduce_only: bool
    margin: bool  # spot margin: ``isLeverage`` 1 on a spot market

    @classmethod
    def read(cls, params: Params, instrument: Instrument) -> OrderRequest:
        for name in UNSUPPORTED_ORDER_PARAMS:
            if name in params:
                raise params_error(f"params error: {name} is not supported by the simulator")
        is_leverage = params.integer("isLeverage", 0)
        if is_leverage not in (0, 1):
            raise params_error("params error: isLeverage invalid")
        if params.integer("positionIdx", 0) != 0:
            raise params_error("position idx not match position mode")
        side = {"Buy": Side.BUY, "Sell": Side.SELL}.get(params.required("side"))
        order_type = {"Market": OrderType.MARKET, "Limit": OrderType.LIMIT}.get(
            params.required("orderType")
        )
        if side is None or order_type is None:
            raise params_error("params error: side or orderType invalid")
        qty = params.decimal("qty")
        if qty is None or qty <= 0:
            raise params_error("params error: qty invalid")
        price = params.decimal("price") if order_type is OrderType.LIMIT else None
        if order_type is OrderType.LIMIT and (price is None or price <= 0):
            raise params_error("params error: price invalid")
        link_id = params.text("orderLinkId") or ""
        if len(link_id) > 36:
            raise params_error("params error: orderLinkId is longer than 36 characters")
        default_tif = "IOC" if order_type is OrderType.MARKET else "GTC"
        time_in_force = params.text("timeInForce") or default_tif
        if time_in_force not in TIME_IN_FORCE:
            raise params_error("params error: timeInForce invalid")
        request = cls(
            instrument,
            side,
            order_type,
            qty,
            price,
            link_id,
            "IOC" if order_type is OrderType.MARKET else time_in_force,
            cls._market_unit(params, instrument, side, order_type),
            params.flag("reduceOnly"),
            # Valid for spot only, as Bybit documents it; other categories ignore it.
            is_leverage == 1 and instrument.kind is Kind.SPOT,
        )
        request.check_grid()
        return request

    @staticmethod
    def _market_unit(params: Params, instrument: Instrument, side: Side, kind: OrderType) -> str:
        """Spot market orders count ``qty`` in the quote coin for buys unless told otherwise."""
        if instrument.kind is not Kind.SPOT or kind is not OrderType.MARKET:
            return ""
        unit = params.text("marketUnit") or ("quoteCoin" if side is Side.BUY else "baseCoin")
        if unit not in ("baseCoin", "quoteCoin"):
            raise params_error("params error: marketUnit invalid")
        return unit

    def check_grid(self) -> None:
        """Quantities on the lot step and prices on the tick, or Bybit's refusal."""
        spot = self.instrument.kind is Kind.SPOT
        if self.market_unit != "quoteCoin" and self.qty % self.instrument.amount_step != 0:
            if spot:
                raise BybitError(170137, "Order quantity has too many decimals.")
            raise params_error("params error: qty has too many decimals")
        if self.price is not None and self.price % self.instrument.price_tick != 0:
            if spot:
                raise BybitError(170134, "Order price has too many decimals.")
            raise params_error("params error: price has too many decimals")

    def base_amount(self, bid: Decimal, ask: Decimal) -> Decimal:
        """The order's amount in the base asset (a quote-coin market order at the touch)."""
        if self.market_unit != "quoteCoin":
            return self.qty
        touch = ask if self.side is Side.BUY else bid
        return self.instrument.floor_amount(self.qty / touch)

    def post_only_takes(self, bid: Decimal, ask: Decimal) -> bool:
        if self.time_in_force != "PostOnly" or self.price is None:
            return False
        return self.price >= ask if self.side is Side.BUY else self.price <= bid
