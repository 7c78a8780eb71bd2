"""Kraken spot (/0/public, /0/private) and Kraken Futures (/derivatives/api/v3), from ccxt's
``kraken.json`` and ``krakenfutures.json``. Kraken keys results by pair name or order id: those
maps are written ``*``."""

from __future__ import annotations

from tests.simulator.recorded.shapes import Shape, columns, keys

SPOT = "ts/src/test/static/response/kraken.json"
FUTURES = "ts/src/test/static/response/krakenfutures.json"
DESCR = "pair type ordertype price price2 leverage order close"
ORDER = (
    "refid userref status opentm starttm expiretm vol vol_exec cost fee price stopprice "
    "limitprice misc oflags"
)
SHAPES = [
    Shape(
        "kraken",
        "spot",
        "fetch_ticker",
        "GET /0/public/Ticker",
        f'{SPOT}: fetchTicker "public spot ticker"',
        keys("error result result.*") | keys("a b c v p t l h o", "result.*"),
        named=("result",),
    ),
    Shape(
        "kraken",
        "spot",
        "fetch_ohlcv",
        "GET /0/public/OHLC",
        f'{SPOT}: fetchOHLCV "Spot ohlcv with since in the request and limit filter on ccxt side"',
        keys("error result result.* result.last") | columns(8, "result.*"),
        named=("result",),
        fixed=("last",),
    ),
    Shape(
        "kraken",
        "spot",
        "create_order",
        "POST /0/private/AddOrder",
        f'{SPOT}: createOrder "create order"',
        keys("error result result.txid result.descr result.descr.order"),
    ),
    Shape(
        "kraken",
        "spot",
        "fetch_order",
        "POST /0/private/QueryOrders",
        f'{SPOT}: fetchOrder "fetch spot limit order"',
        keys("error result result.* result.*.descr")
        | keys(f"{ORDER} reason", "result.*")
        | keys(DESCR, "result.*.descr"),
        named=("result",),
    ),
    Shape(
        "kraken",
        "spot",
        "fetch_open_orders",
        "POST /0/private/OpenOrders",
        f'{SPOT}: fetchOpenOrders "open stop-loss-limit order"',
        keys("error result result.open result.open.* result.open.*.descr")
        | keys(ORDER, "result.open.*")
        | keys(DESCR, "result.open.*.descr"),
        named=("result.open",),
    ),
    Shape(
        "kraken",
        "perpetual_futures",
        "fetch_tickers",
        "GET /derivatives/api/v3/tickers",
        f'{FUTURES}: fetchFundingRates "fetch funding rates" (the same endpoint)',
        keys("result serverTime tickers")
        | keys(
            "symbol last lastTime tag pair markPrice bid bidSize ask askSize vol24h volumeQuote "
            "openInterest open24h high24h low24h lastSize fundingRate fundingRatePrediction "
            "suspended indexPrice postOnly change24h",
            "tickers[]",
        ),
    ),
    Shape(
        "kraken",
        "perpetual_futures",
        "fetch_open_orders",
        "GET /derivatives/api/v3/openorders",
        f'{FUTURES}: fetchOpenOrders "open order"',
        keys("result serverTime openOrders")
        | keys(
            "order_id symbol side orderType limitPrice unfilledSize receivedTime status "
            "filledSize lastUpdateTime reduceOnly",
            "openOrders[]",
        ),
    ),
    Shape(
        "kraken",
        "perpetual_futures",
        "fetch_my_trades",
        "GET /derivatives/api/v3/fills",
        f'{FUTURES}: fetchMyTrades "user trades"',
        keys("result serverTime fills")
        | keys("fill_id symbol side order_id size price fillTime fillType", "fills[]"),
    ),
    Shape(
        "kraken",
        "perpetual_futures",
        "fetch_positions",
        "GET /derivatives/api/v3/openpositions",
        f'{FUTURES}: fetchPositions "open positions, regression test for #29710 (...)"',
        keys("result serverTime openPositions")
        | keys("side symbol price fillTime size unrealizedFunding", "openPositions[]"),
    ),
]
