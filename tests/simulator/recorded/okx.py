"""OKX v5 (spot and USDT swaps), from ccxt's ``okx.json``. Bodies are ``{code, msg, data}``."""

from __future__ import annotations

from tests.simulator.recorded.shapes import Shape, columns, keys

FILE = "ts/src/test/static/response/okx.json"
ENVELOPE = keys("code msg data")
ORDER = (
    "accFillSz algoClOrdId algoId attachAlgoClOrdId attachAlgoOrds avgPx cTime cancelSource "
    "cancelSourceReason category ccy clOrdId fee feeCcy fillPx fillSz fillTime instId "
    "instType lever ordId ordType pnl posSide px pxType pxUsd pxVol quickMgnType rebate "
    "rebateCcy reduceOnly side slOrdPx slTriggerPx slTriggerPxType source state stpId stpMode "
    "sz tag tdMode tgtCcy tpOrdPx tpTriggerPx tpTriggerPxType tradeId uTime"
)
SWAP_ORDERS = (
    f'{FILE}: fetchOpenOrders "fetch swap limit open order with take profit and stop loss"'
)
BALANCE = (
    ENVELOPE
    | keys(
        "adjEq availEq borrowFroz details imr isoEq mgnRatio mmr notionalUsd "
        "notionalUsdForBorrow notionalUsdForFutures notionalUsdForOption notionalUsdForSwap "
        "ordFroz totalEq uTime upl",
        "data[]",
    )
    | keys(
        "accAvgPx availBal availEq borrowFroz cashBal ccy clSpotInUseAmt colBorrAutoConversion "
        "collateralEnabled collateralRestrict crossLiab disEq eq eqUsd fixedBal frozenBal imr "
        "interest isoEq isoLiab isoUpl liab maxLoan maxSpotInUse mgnRatio mmr notionalLever "
        "openAvgPx ordFrozen rewardBal smtSyncEq spotBal spotCopyTradingEq spotInUseAmt "
        "spotIsoBal spotUpl spotUplRatio stgyEq totalPnl totalPnlRatio twap uTime upl uplLiab",
        "data[].details[]",
    )
)
BOOK = ENVELOPE | keys("ts", "data[]") | columns(4, "data[].asks") | columns(4, "data[].bids")
SPOT_AND_SWAP = ("spot", "perpetual_futures")


def both(call: str, endpoint: str, source: str, recorded: frozenset[str]) -> list[Shape]:
    return [Shape("okx", kind, call, endpoint, source, recorded) for kind in SPOT_AND_SWAP]


SHAPES = [
    *both(
        "fetch_ticker",
        "GET /api/v5/market/ticker",
        f'{FILE}: fetchTicker "public spot ticker" (one ticker object for spot and swaps)',
        ENVELOPE
        | keys(
            "instType instId last lastSz askPx askSz bidPx bidSz open24h high24h low24h "
            "volCcy24h vol24h ts sodUtc0 sodUtc8",
            "data[]",
        ),
    ),
    *both(
        "fetch_ohlcv",
        "GET /api/v5/market/candles",
        f'{FILE}: fetchOHLCV "spot ohlcv with limit and since" (the same rows for swaps)',
        ENVELOPE | columns(9, "data"),
    ),
    Shape(
        "okx",
        "spot",
        "fetch_order_book",
        "GET /api/v5/market/books",
        f'{FILE}: fetchOrderBook "spot orderbook"',
        BOOK,
    ),
    Shape(
        "okx",
        "perpetual_futures",
        "fetch_order_book",
        "GET /api/v5/market/books",
        f'{FILE}: fetchOrderBook "Swap orderbook"',
        BOOK,
    ),
    *both(
        "fetch_balance",
        "GET /api/v5/account/balance",
        f'{FILE}: fetchBalance "spot balance"',
        BALANCE,
    ),
    *both(
        "create_order",
        "POST /api/v5/trade/batch-orders",
        f'{FILE}: createOrder "type2 & type3 together" (the order reply\'s items)',
        keys("code msg data") | keys("clOrdId ordId sCode sMsg tag ts", "data[]"),
    ),
    *both(
        "fetch_order",
        "GET /api/v5/trade/order",
        f'{FILE}: fetchOrder "fetch spot order" (one order object for spot and swaps)',
        ENVELOPE
        | keys(f"{ORDER} isTpLimit linkedAlgoOrd", "data[]")
        | keys("algoId", "data[].linkedAlgoOrd"),
    ),
    *both(
        "fetch_open_orders",
        "GET /api/v5/trade/orders-pending",
        SWAP_ORDERS,
        ENVELOPE | keys(ORDER, "data[]"),
    ),
    *both(
        "fetch_closed_orders",
        "GET /api/v5/trade/orders-history",
        f'{FILE}: fetchClosedOrders "Swap closed orders"',
        ENVELOPE | keys(ORDER, "data[]"),
    ),
    *both(
        "fetch_my_trades",
        "GET /api/v5/trade/fills-history",
        f'{FILE}: fetchMyTrades "Fetch spot trade"',
        ENVELOPE
        | keys(
            "side fillSz fillPx fillPxVol fillFwdPx fee fillPnl ordId feeRate instType "
            "fillPxUsd instId clOrdId posSide billId fillMarkVol tag fillTime execType "
            "fillIdxPx tradeId fillMarkPx feeCcy ts",
            "data[]",
        ),
    ),
    Shape(
        "okx",
        "perpetual_futures",
        "fetch_positions",
        "GET /api/v5/account/positions",
        f'{FILE}: fetchPosition "fetch position" (the same endpoint)',
        ENVELOPE
        | keys(
            "adl availPos avgPx baseBal baseBorrowed baseInterest bePx bizRefId bizRefType "
            "cTime ccy clSpotInUseAmt closeOrderAlgo deltaBS deltaPA fee fundingFee gammaBS "
            "gammaPA idxPx imr instId instType interest last lever liab liabCcy liqPenalty "
            "liqPx margin markPx maxSpotInUseAmt mgnMode mgnRatio mmr notionalUsd optVal "
            "pendingCloseOrdLiabVal pnl pos posCcy posId posSide quoteBal quoteBorrowed "
            "quoteInterest realizedPnl spotInUseAmt spotInUseCcy thetaBS thetaPA tradeId uTime "
            "upl uplLastPx uplRatio uplRatioLastPx usdPx vegaBS vegaPA",
            "data[]",
        ),
    ),
]
