"""Bybit v5 (unified account: spot and USDT perpetuals), from ccxt's ``bybit.json``. Every body
is ``{retCode, retMsg, result, retExtInfo, time}``."""

from __future__ import annotations

from tests.simulator.recorded.shapes import Shape, columns, keys

FILE = "ts/src/test/static/response/bybit.json"
ENVELOPE = keys("retCode retMsg result retExtInfo time")
PAGE = keys("nextPageCursor category list", "result")
# Orders as Bybit's spot answered in 2024 (GET /v5/order/realtime and /history share them).
SPOT_ORDER = (
    "symbol orderType orderLinkId slLimitPrice orderId cancelType avgPrice stopOrderType "
    "lastPriceOnCreated orderStatus takeProfit cumExecValue smpType triggerDirection "
    "blockTradeId rejectReason isLeverage price orderIv createdTime tpTriggerBy positionIdx "
    "timeInForce leavesValue updatedTime side smpGroup triggerPrice tpLimitPrice cumExecFee "
    "slTriggerBy leavesQty closeOnTrigger placeType cumExecQty reduceOnly qty stopLoss "
    "marketUnit smpOrderId triggerBy"
)
SPOT_ORDER_SOURCE = f'{FILE}: fetchOrder "Spot sell closed order"'
# Linear orders as Bybit answered in 2025: a few keys more.
LINEAR_OPEN = f"{SPOT_ORDER} createType tpslMode cumFeeDetail"
LINEAR_CLOSED = (
    f"{SPOT_ORDER.replace(' marketUnit', '')} createType tpslMode cumFeeDetail "
    "slippageToleranceType slippageTolerance extraFees"
)
EXECUTION = (
    "symbol orderType underlyingPrice orderLinkId orderId stopOrderType execTime feeCurrency "
    "feeRate tradeIv blockTradeId markPrice execPrice markIv orderQty orderPrice execValue "
    "closedSize execType seq side indexPrice leavesQty isMaker execFee execId marketUnit execQty"
)
CREATED = ENVELOPE | keys("orderId orderLinkId", "result")
WALLET = (
    ENVELOPE
    | keys("list", "result")
    | keys(
        "totalEquity accountIMRate totalMarginBalance totalInitialMargin accountType "
        "totalAvailableBalance accountMMRate totalPerpUPL totalWalletBalance accountLTV "
        "totalMaintenanceMargin coin",
        "result.list[]",
    )
    | keys(
        "availableToBorrow bonus accruedInterest availableToWithdraw totalOrderIM equity "
        "totalPositionMM usdValue unrealisedPnl collateralSwitch spotHedgingQty borrowAmount "
        "totalPositionIM walletBalance cumRealisedPnl locked marginCollateral coin",
        "result.list[].coin[]",
    )
)
KLINE = ENVELOPE | keys("symbol category list", "result") | columns(7, "result.list")
BOOK = keys("s ts u", "result") | columns(2, "result.a") | columns(2, "result.b")
SHAPES = [
    Shape(
        exchange,
        api_type,
        call,
        endpoint,
        source,
        recorded,
        named=("result.list[].cumFeeDetail",),
    )
    for exchange, api_type, call, endpoint, source, recorded in [
        (
            "bybit",
            "perpetual_futures",
            "fetch_ticker",
            "GET /v5/market/tickers",
            f'{FILE}: fetchTicker "swap ticker"',
            ENVELOPE
            | keys("category list", "result")
            | keys(
                "symbol lastPrice indexPrice markPrice prevPrice24h price24hPcnt highPrice24h "
                "lowPrice24h prevPrice1h openInterest openInterestValue turnover24h volume24h "
                "fundingRate nextFundingTime predictedDeliveryPrice basisRate deliveryFeeRate "
                "deliveryTime ask1Size bid1Price ask1Price bid1Size basis",
                "result.list[]",
            ),
        ),
        *[
            (
                "bybit",
                api_type,
                "fetch_ohlcv",
                "GET /v5/market/kline",
                f'{FILE}: fetchOHLCV "swap ohlcv with since and limit"',
                KLINE,
            )
            for api_type in ("spot", "perpetual_futures")
        ],
        (
            "bybit",
            "spot",
            "fetch_order_book",
            "GET /v5/market/orderbook",
            f'{FILE}: fetchOrderBook "Spot orderbook"',
            ENVELOPE | BOOK,
        ),
        (
            "bybit",
            "perpetual_futures",
            "fetch_order_book",
            "GET /v5/market/orderbook",
            f'{FILE}: fetchOrderBook "swap orderbook"',
            ENVELOPE | BOOK | keys("seq", "result"),
        ),
        *[
            (
                "bybit",
                api_type,
                "fetch_balance",
                "GET /v5/account/wallet-balance",
                f'{FILE}: fetchBalance "balance after availableToWithdraw update"',
                WALLET,
            )
            for api_type in ("spot", "perpetual_futures")
        ],
        (
            "bybit",
            "spot",
            "create_order",
            "POST /v5/order/create",
            f'{FILE}: createOrder "create spot order"',
            CREATED,
        ),
        (
            "bybit",
            "perpetual_futures",
            "create_order",
            "POST /v5/order/create",
            f'{FILE}: createOrder "create spot order" (the same reply for every category)',
            CREATED,
        ),
        *[
            (
                "bybit",
                "spot",
                call,
                endpoint,
                SPOT_ORDER_SOURCE,
                ENVELOPE | PAGE | keys(SPOT_ORDER, "result.list[]"),
            )
            for call, endpoint in [
                ("fetch_order", "GET /v5/order/realtime"),
                ("fetch_open_orders", "GET /v5/order/realtime"),
                ("fetch_closed_orders", "GET /v5/order/history"),
            ]
        ],
        *[
            (
                "bybit",
                "perpetual_futures",
                call,
                "GET /v5/order/realtime",
                f'{FILE}: fetchOpenOrder "Fetch an open swap order by its ID and symbol"',
                ENVELOPE | PAGE | keys(LINEAR_OPEN, "result.list[]"),
            )
            for call in ("fetch_order", "fetch_open_orders")
        ],
        (
            "bybit",
            "perpetual_futures",
            "fetch_closed_orders",
            "GET /v5/order/history",
            f'{FILE}: fetchClosedOrders "Fetch swap closed orders by the symbol"',
            ENVELOPE
            | PAGE
            | keys(LINEAR_CLOSED, "result.list[]")
            | keys("*", "result.list[].cumFeeDetail"),
        ),
        (
            "bybit",
            "spot",
            "fetch_my_trades",
            "GET /v5/execution/list",
            f'{FILE}: fetchMyTrades "spot trades without symbol"',
            ENVELOPE | PAGE | keys(EXECUTION, "result.list[]"),
        ),
        (
            "bybit",
            "perpetual_futures",
            "fetch_my_trades",
            "GET /v5/execution/list",
            f'{FILE}: fetchMyTrades "swap trades without symbol"',
            ENVELOPE | PAGE | keys(f"{EXECUTION} createType", "result.list[]"),
        ),
        (
            "bybit",
            "perpetual_futures",
            "fetch_positions",
            "GET /v5/position/list",
            f'{FILE}: fetchPositions "Fetch linear position"',
            ENVELOPE
            | PAGE
            | keys(
                "symbol leverage autoAddMargin avgPrice liqPrice riskLimitValue takeProfit "
                "positionValue isReduceOnly tpslMode riskId trailingStop unrealisedPnl "
                "markPrice adlRankIndicator cumRealisedPnl positionMM createdTime positionIdx "
                "positionIM seq updatedTime side bustPrice positionBalance "
                "leverageSysUpdatedTime size positionStatus mmrSysUpdatedTime stopLoss "
                "tradeMode",
                "result.list[]",
            ),
        ),
    ]
]
