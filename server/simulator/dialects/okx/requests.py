"""A new order as OKX validates it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from server.simulator.dialects.common import plain
from server.simulator.dialects.okx.core import OkxCore
from server.simulator.dialects.okx.errors import OkxError, OrderRefusal
from server.simulator.dialects.okx.wire import (
    ALGO_PARAMS,
    CLIENT_ID,
    LOT_SIZE,
    ORDER_TYPES,
    OrderWire,
    Params,
)
from server.simulator.instruments import Instrument, Kind
from server.simulator.ledger import OrderType, Side


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """One order of /trade/order or /trade/batch-orders, validated as OKX validates it."""

    instrument: Instrument
    side: Side
    type: OrderType
    sz: Decimal
    price: Decimal | None
    reduce_only: bool
    contract_value: Decimal
    wire: OrderWire

    @classmethod
    def read(
        cls, params: Params, instrument: Instrument, dialect: OkxCore, margin_mode: str
    ) -> OrderRequest:
        for name in ALGO_PARAMS:
            if name in params:
                raise OrderRefusal("51000", f"Parameter {name} error")
        spot = instrument.kind is Kind.SPOT
        side = {"buy": Side.BUY, "sell": Side.SELL}.get(params.text("side") or "")
        if side is None:
            raise OrderRefusal("51000", "Parameter side error")
        ord_type = params.text("ordType") or ""
        if ord_type not in ORDER_TYPES or (spot and ord_type == "optimal_limit_ioc"):
            raise OrderRefusal("51000", "Parameter ordType error")
        market = ord_type in ("market", "optimal_limit_ioc")
        td_mode = params.text("tdMode") or ""
        # Spot: cash, or cross margin (isolated spot margin is not simulated).
        if (spot and td_mode not in ("cash", "cross")) or (not spot and td_mode != margin_mode):
            raise OrderRefusal("51000", "Parameter tdMode error")
        ccy = cls._margin_currency(params, instrument, td_mode if spot else "")
        pos_side = params.text("posSide")
        if pos_side not in (None, "net") or (spot and pos_side is not None):
            raise OrderRefusal("51000", "Parameter posSide error")
        sz = cls._number(params, "sz")
        if sz is None or sz <= 0:
            raise OrderRefusal("51000", "Parameter sz error")
        price = None if market else cls._number(params, "px")
        if not market and (price is None or price <= 0):
            raise OrderRefusal("51000", "Parameter px error")
        if price is not None and price % instrument.price_tick != 0:
            raise OrderRefusal("51000", "Parameter px error")
        client_id = params.text("clOrdId") or ""
        if client_id and not CLIENT_ID.match(client_id):
            raise OrderRefusal("51000", "Parameter clOrdId error")
        # tgtCcy applies to cash spot market orders; a margin order's sz is in the base.
        tgt_ccy = cls._target(params, instrument, side, market and td_mode == "cash")
        lot = instrument.amount_step if spot else LOT_SIZE
        if tgt_ccy != "quote_ccy" and sz % lot != 0:
            raise OrderRefusal("51121", f"Order quantity must be a multiple of the lot size {lot}")
        reduce_only = params.flag("reduceOnly")
        if spot and reduce_only:
            raise OrderRefusal(
                "51139",
                "Reduce-only feature is unavailable for the spot transactions by simple account",
            )
        return cls(
            instrument,
            side,
            OrderType.MARKET if market else OrderType.LIMIT,
            sz,
            price,
            reduce_only,
            Decimal(1) if spot else dialect.contract_value(instrument),
            OrderWire(
                sz=plain(sz),
                cl_ord_id=client_id,
                tag=params.text("tag") or "",
                ord_type=ord_type,
                td_mode=td_mode,
                tgt_ccy=tgt_ccy,
                ccy=ccy,
            ),
        )

    @staticmethod
    def _number(params: Params, name: str) -> Decimal | None:
        try:
            return params.decimal(name)
        except OkxError:
            raise OrderRefusal("51000", f"Parameter {name} error") from None

    @staticmethod
    def _margin_currency(params: Params, instrument: Instrument, spot_td_mode: str) -> str:
        """A cross margin spot order names its margin currency, the pair's base or quote, as
        OKX's "Spot and futures" mode requires; other orders send none."""
        ccy = params.text("ccy") or ""
        if spot_td_mode == "cross" and ccy not in (instrument.base, instrument.quote):
            raise OrderRefusal("51000", "Parameter ccy error")
        return ccy if spot_td_mode == "cross" else ""

    @staticmethod
    def _target(params: Params, instrument: Instrument, side: Side, market: bool) -> str:
        """Spot market orders count ``sz`` in the quote currency for buys unless told."""
        if instrument.kind is not Kind.SPOT or not market:
            return ""
        target = params.text("tgtCcy") or ("quote_ccy" if side is Side.BUY else "base_ccy")
        if target not in ("base_ccy", "quote_ccy"):
            raise OrderRefusal("51000", "Parameter tgtCcy error")
        return target

    def base_amount(self, bid: Decimal, ask: Decimal) -> Decimal:
        """The order's amount in the base asset (quote-sized market orders at the touch)."""
        if self.wire.tgt_ccy == "quote_ccy":
            touch = ask if self.side is Side.BUY else bid
            return self.instrument.floor_amount(self.sz / touch)
        return self.sz * self.contract_value

    def post_only_takes(self, bid: Decimal, ask: Decimal) -> bool:
        if self.wire.ord_type != "post_only" or self.price is None:
            return False
        return self.price >= ask if self.side is Side.BUY else self.price <= bid
