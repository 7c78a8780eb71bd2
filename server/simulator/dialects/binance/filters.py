"""Binance's markets as ``exchangeInfo`` lists them, with their filters."""

from __future__ import annotations

from decimal import Decimal

from server.simulator.dialects.binance.wire import (
    BOOK_LEVEL_VALUE,
    FUTURES_ORDER_TYPES,
    FUTURES_TIME_IN_FORCE,
    MAX_PRICE,
    MAX_QTY_STEPS,
    ONBOARD_MS,
    PERPETUAL_DELIVERY_MS,
    SPOT_ORDER_TYPES,
    Json,
    fmt,
)
from server.simulator.instruments import QUOTE, Instrument


def on_step(value: Decimal, minimum: Decimal, step: Decimal, maximum: Decimal) -> bool:
    """Binance's filter rule: minimum <= value <= maximum and (value - minimum) % step == 0."""
    return minimum <= value <= maximum and (value - minimum) % step == 0


def max_qty(instrument: Instrument) -> Decimal:
    return instrument.amount_step * MAX_QTY_STEPS


def book_qty(instrument: Instrument, price: Decimal, level: int) -> Decimal:
    """A deterministic size for a simulated order-book level."""
    value = BOOK_LEVEL_VALUE * (1 + Decimal(level % 7) / 4)
    return max(instrument.min_amount, instrument.floor_amount(value / price))


def market_filters(instrument: Instrument, *, futures: bool) -> list[Json]:
    price_places = instrument.decimals(instrument.price_tick) if futures else 8
    qty_places = instrument.decimals(instrument.amount_step) if futures else 8
    lot = {
        "minQty": fmt(instrument.min_amount, qty_places),
        "maxQty": fmt(max_qty(instrument), qty_places),
        "stepSize": fmt(instrument.amount_step, qty_places),
    }
    filters: list[Json] = [
        {
            "filterType": "PRICE_FILTER",
            "minPrice": fmt(instrument.price_tick, price_places),
            "maxPrice": fmt(MAX_PRICE, price_places),
            "tickSize": fmt(instrument.price_tick, price_places),
        },
        {"filterType": "LOT_SIZE", **lot},
        {"filterType": "MARKET_LOT_SIZE", **lot},
    ]
    if futures:
        filters += [
            {"filterType": "MAX_NUM_ORDERS", "limit": 200},
            {"filterType": "MIN_NOTIONAL", "notional": str(instrument.min_notional)},
        ]
    else:
        filters += [
            {
                "filterType": "NOTIONAL",
                "minNotional": fmt(instrument.min_notional),
                "applyMinToMarket": True,
                "maxNotional": fmt(Decimal(9_000_000)),
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            },
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
        ]
    return filters


def spot_market(instrument: Instrument) -> Json:
    """A market as GET /api/v3/exchangeInfo lists it."""
    return {
        "symbol": instrument.plain_id,
        "status": "TRADING",
        "baseAsset": instrument.base,
        "baseAssetPrecision": 8,
        "quoteAsset": instrument.quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": list(SPOT_ORDER_TYPES),
        "icebergAllowed": False,
        "ocoAllowed": False,
        "otoAllowed": False,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": False,
        "cancelReplaceAllowed": False,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": market_filters(instrument, futures=False),
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_MAKER"],
    }


def futures_market(instrument: Instrument) -> Json:
    """A market as GET /fapi/v1/exchangeInfo lists it: a USDT-margined perpetual."""
    return {
        "symbol": instrument.plain_id,
        "pair": instrument.plain_id,
        "contractType": "PERPETUAL",
        "deliveryDate": PERPETUAL_DELIVERY_MS,
        "onboardDate": ONBOARD_MS,
        "status": "TRADING",
        "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000",
        "baseAsset": instrument.base,
        "quoteAsset": instrument.quote,
        "marginAsset": QUOTE,
        "pricePrecision": instrument.decimals(instrument.price_tick),
        "quantityPrecision": instrument.decimals(instrument.amount_step),
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "underlyingType": "COIN",
        "underlyingSubType": [],
        "triggerProtect": "0.0500",
        "liquidationFee": "0.012500",
        "marketTakeBound": "0.05",
        "maxMoveOrderLimit": 10000,
        "filters": market_filters(instrument, futures=True),
        "orderTypes": list(FUTURES_ORDER_TYPES),
        "timeInForce": list(FUTURES_TIME_IN_FORCE),
    }
