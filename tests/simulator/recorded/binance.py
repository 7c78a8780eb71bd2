"""Binance (spot: /api/v3; USDⓈ-M perpetuals: /fapi), from ccxt's ``binance.json``."""

from __future__ import annotations

from tests.simulator.recorded.shapes import Shape, columns, keys

FILE = "ts/src/test/static/response/binance.json"

SPOT_ORDER = (
    "symbol orderId orderListId clientOrderId price origQty executedQty cummulativeQuoteQty "
    "status timeInForce type side stopPrice icebergQty time updateTime isWorking workingTime "
    "origQuoteOrderQty selfTradePreventionMode"
)
# The futures order object, as GET /fapi/v1/openOrder returns it (the same object as
# GET /fapi/v1/order, /openOrders and /allOrders in Binance's documentation).
FUTURES_ORDER = (
    "orderId symbol status clientOrderId price avgPrice origQty executedQty cumQuote "
    "timeInForce type reduceOnly closePosition side positionSide stopPrice workingType "
    "priceProtect origType priceMatch selfTradePreventionMode goodTillDate time updateTime"
)
FUTURES_ORDER_SOURCE = f'{FILE}: fetchOpenOrder "swap open order" (Binance\'s order object)'
KLINE = "Binance's klines: 12 columns (open time, OHLCV, close time, quote volume, counts)"
SHAPES = [
    Shape(
        "binance",
        "spot",
        "fetch_ticker",
        "GET /api/v3/ticker/24hr",
        f'{FILE}: fetchTicker "public spot ticker"',
        keys(
            "symbol priceChange priceChangePercent weightedAvgPrice prevClosePrice lastPrice "
            "lastQty bidPrice bidQty askPrice askQty openPrice highPrice lowPrice volume "
            "quoteVolume openTime closeTime firstId lastId count"
        ),
    ),
    Shape(
        "binance",
        "spot",
        "fetch_ohlcv",
        "GET /api/v3/klines",
        f'{FILE}: fetchOHLCV "Spot OHLCV with since and limit"',
        columns(12, ""),
    ),
    Shape(
        "binance",
        "spot",
        "fetch_order_book",
        "GET /api/v3/depth",
        f'{FILE}: fetchOrderBook "spot orderbook"',
        keys("lastUpdateId") | columns(2, "bids") | columns(2, "asks"),
    ),
    Shape(
        "binance",
        "spot",
        "fetch_balance",
        "GET /api/v3/account",
        f'{FILE}: fetchBalance "Spot balance"',
        keys(
            "makerCommission takerCommission buyerCommission sellerCommission canTrade "
            "canWithdraw canDeposit brokered requireSelfTradePrevention preventSor updateTime "
            "accountType permissions uid"
        )
        | keys("maker taker buyer seller", "commissionRates")
        | keys("asset free locked", "balances[]"),
    ),
    Shape(
        "binance",
        "spot",
        "create_order",
        "POST /api/v3/order",
        f'{FILE}: createOrder "spot +selfTradePrevention +iceberg"',
        # icebergQty is left out of the list: Binance sends it for iceberg orders only.
        keys(
            "symbol orderId orderListId clientOrderId transactTime price origQty executedQty "
            "origQuoteOrderQty cummulativeQuoteQty status timeInForce type side workingTime "
            "fills selfTradePreventionMode"
        ),
    ),
    Shape(
        "binance",
        "spot",
        "fetch_order",
        "GET /api/v3/order",
        f'{FILE}: fetchOrder "Fetch spot closed order"',
        keys(SPOT_ORDER),
    ),
    Shape(
        "binance",
        "spot",
        "fetch_open_orders",
        "GET /api/v3/openOrders",
        f'{FILE}: fetchOpenOrders "Fetch spot open orders"',
        keys(SPOT_ORDER, "[]"),
    ),
    Shape(
        "binance",
        "spot",
        "fetch_closed_orders",
        "GET /api/v3/allOrders",
        f'{FILE}: fetchOrders "fetch spot orders"',
        keys(SPOT_ORDER, "[]"),
    ),
    Shape(
        "binance",
        "spot",
        "fetch_my_trades",
        "GET /api/v3/myTrades",
        f'{FILE}: fetchMyTrades "Spot private trade"',
        keys(
            "symbol id orderId orderListId price qty quoteQty commission commissionAsset time "
            "isBuyer isMaker isBestMatch",
            "[]",
        ),
    ),
    Shape(
        "binance",
        "perpetual_futures",
        "fetch_ohlcv",
        "GET /fapi/v1/klines",
        f'{FILE}: fetchOHLCV "swap ohlcv"',
        columns(12, ""),
    ),
    Shape(
        "binance",
        "perpetual_futures",
        "fetch_order_book",
        "GET /fapi/v1/depth",
        f'{FILE}: fetchOrderBook "swap orderbook"',
        keys("lastUpdateId E T") | columns(2, "bids") | columns(2, "asks"),
    ),
    Shape(
        "binance",
        "perpetual_futures",
        "create_order",
        "POST /fapi/v1/order",
        f'{FILE}: createOrders "create swap orders" (each item is the POST /fapi/v1/order reply)',
        keys(
            "orderId symbol status clientOrderId price avgPrice origQty executedQty cumQty "
            "cumQuote timeInForce type reduceOnly closePosition side positionSide stopPrice "
            "workingType priceProtect origType priceMatch selfTradePreventionMode goodTillDate "
            "updateTime"
        ),
    ),
    Shape(
        "binance",
        "perpetual_futures",
        "fetch_order",
        "GET /fapi/v1/order",
        FUTURES_ORDER_SOURCE,
        keys(FUTURES_ORDER),
    ),
    Shape(
        "binance",
        "perpetual_futures",
        "fetch_open_orders",
        "GET /fapi/v1/openOrders",
        FUTURES_ORDER_SOURCE,
        keys(FUTURES_ORDER, "[]"),
    ),
    Shape(
        "binance",
        "perpetual_futures",
        "fetch_closed_orders",
        "GET /fapi/v1/allOrders",
        FUTURES_ORDER_SOURCE,
        keys(FUTURES_ORDER, "[]"),
    ),
    Shape(
        "binance",
        "perpetual_futures",
        "fetch_my_trades",
        "GET /fapi/v1/userTrades",
        f'{FILE}: fetchMyTrades "Swap private trade"',
        keys(
            "symbol id orderId side price qty realizedPnl marginAsset quoteQty commission "
            "commissionAsset time positionSide maker buyer",
            "[]",
        ),
    ),
    Shape(
        "binance",
        "perpetual_futures",
        "fetch_balance",
        "GET /fapi/v3/account",
        f'{FILE}: fetchPositions "Fetch linear positions using account endnpoint"',
        keys(
            "totalInitialMargin totalMaintMargin totalWalletBalance totalUnrealizedProfit "
            "totalMarginBalance totalPositionInitialMargin totalOpenOrderInitialMargin "
            "totalCrossWalletBalance totalCrossUnPnl availableBalance maxWithdrawAmount"
        )
        | keys(
            "asset walletBalance unrealizedProfit marginBalance maintMargin initialMargin "
            "positionInitialMargin openOrderInitialMargin crossWalletBalance crossUnPnl "
            "availableBalance maxWithdrawAmount updateTime",
            "assets[]",
        )
        | keys(
            "symbol positionSide positionAmt unrealizedProfit isolatedMargin notional "
            "isolatedWallet initialMargin maintMargin updateTime",
            "positions[]",
        ),
    ),
    Shape(
        "binance",
        "perpetual_futures",
        "fetch_positions",
        "GET /fapi/v3/positionRisk",
        f'{FILE}: fetchPositions "Fetch linear positions with symbols"',
        keys(
            "symbol positionSide positionAmt entryPrice breakEvenPrice markPrice "
            "unRealizedProfit liquidationPrice isolatedMargin notional marginAsset "
            "isolatedWallet initialMargin maintMargin positionInitialMargin "
            "openOrderInitialMargin adl bidNotional askNotional updateTime",
            "[]",
        ),
    ),
]
