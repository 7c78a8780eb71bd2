"""BingX spot (/openApi/spot/v1) and USDT-M perpetuals (/openApi/swap), from ccxt's
``bingx.json``. Bodies are ``{code, msg, data}``; spot ones add ``debugMsg``."""

from __future__ import annotations

from tests.simulator.recorded.shapes import Shape, columns, keys

FILE = "ts/src/test/static/response/bingx.json"
SPOT_ORDER = (
    "symbol orderId price StopPrice origQty executedQty cummulativeQuoteQty status type side "
    "time updateTime origQuoteOrderQty fee"
)
TPSL = "type quantity stopPrice price workingType"
SWAP_ORDER = (
    "symbol orderId side positionSide type origQty price executedQty avgPrice cumQuote "
    "stopPrice profit commission status time updateTime clientOrderId leverage takeProfit "
    "stopLoss advanceAttr positionID takeProfitEntrustPrice stopLossEntrustPrice orderType "
    "workingType"
)
SPOT = keys("code msg debugMsg data")
SWAP = keys("code msg data")


def swap_order(under: str, more: str = "") -> frozenset[str]:
    return (
        keys(f"{SWAP_ORDER} {more}", under)
        | keys(TPSL, f"{under}.takeProfit")
        | keys(TPSL, f"{under}.stopLoss")
    )


FLAT_ORDER = (
    "orderId orderID symbol positionSide side type price quantity quoteOrderQty stopPrice "
    "workingType clientOrderID clientOrderId timeInForce priceRate stopLoss takeProfit "
    "reduceOnly activationPrice closePosition stopGuaranteed status avgPrice executedQty"
)
FLAT_REASON = (
    "BingX's newer swap order answer puts the order in data itself; the simulator answers in "
    "its earlier form, data.order (also recorded, and read by ccxt's bingx the same way)"
)
SHAPES = [
    Shape(
        "bingx",
        "spot",
        "fetch_ticker",
        "GET /openApi/spot/v1/ticker/24hr",
        f'{FILE}: fetchTicker "public spot ticker"',
        keys("code timestamp data")
        | keys(
            "symbol openPrice highPrice lowPrice lastPrice priceChange priceChangePercent "
            "volume quoteVolume openTime closeTime askPrice askQty bidPrice bidQty",
            "data[]",
        ),
    ),
    Shape(
        "bingx",
        "perpetual_futures",
        "fetch_ticker",
        "GET /openApi/swap/v2/quote/ticker",
        f'{FILE}: fetchTicker "swap ticker"',
        SWAP
        | keys(
            "symbol priceChange priceChangePercent lastPrice lastQty highPrice lowPrice volume "
            "quoteVolume openPrice openTime closeTime askPrice askQty bidPrice bidQty",
            "data",
        ),
    ),
    Shape(
        "bingx",
        "spot",
        "fetch_ohlcv",
        "GET /openApi/spot/v1/market/kline",
        f'{FILE}: fetchOHLCV "public spot ohlcv"',
        keys("code timestamp data") | columns(8, "data"),
    ),
    Shape(
        "bingx",
        "spot",
        "fetch_balance",
        "GET /openApi/spot/v1/account/balance",
        f'{FILE}: fetchBalance "spot fetchBalance"',
        SPOT | keys("balances", "data") | keys("asset free locked", "data.balances[]"),
    ),
    Shape(
        "bingx",
        "perpetual_futures",
        "fetch_balance",
        "GET /openApi/swap/v3/user/balance",
        f'{FILE}: fetchBalance "swap fetch balance"',
        SWAP
        | keys(
            "userId asset balance equity unrealizedProfit realisedProfit availableMargin "
            "usedMargin freezedMargin shortUid",
            "data[]",
        ),
    ),
    Shape(
        "bingx",
        "spot",
        "create_order",
        "POST /openApi/spot/v1/trade/order",
        f'{FILE}: createOrder "spot create order limit buy"',
        SPOT
        | keys(
            "symbol orderId transactTime price origQty executedQty cummulativeQuoteQty status "
            "type side",
            "data",
        ),
    ),
    Shape(
        "bingx",
        "perpetual_futures",
        "create_order",
        "POST /openApi/swap/v2/trade/order",
        f'{FILE}: createOrder "create trigger order"',
        SWAP
        | keys("order", "data")
        | keys(
            "orderId symbol positionSide side type price quantity stopPrice workingType "
            "clientOrderID timeInForce priceRate stopLoss takeProfit reduceOnly "
            "activationPrice closePosition stopGuaranteed",
            "data.order",
        ),
    ),
    Shape(
        "bingx",
        "perpetual_futures",
        "create_order",
        "POST /openApi/swap/v2/trade/order",
        f'{FILE}: createOrder "with stopLoss (unified)"',
        SWAP | keys("debugMsg") | keys(FLAT_ORDER, "data"),
        left_out=dict.fromkeys(keys(FLAT_ORDER, "data"), FLAT_REASON),
        variant="flat",
    ),
    Shape(
        "bingx",
        "perpetual_futures",
        "fetch_order",
        "GET /openApi/swap/v2/trade/order",
        f'{FILE}: fetchOrder "fetch swap order"',
        SWAP
        | keys("order", "data")
        | swap_order("data.order", "onlyOnePosition reduceOnly stopGuaranteed triggerOrderId"),
    ),
    Shape(
        "bingx",
        "spot",
        "fetch_open_orders",
        "GET /openApi/spot/v1/trade/openOrders",
        f'{FILE}: fetchOpenOrders "spot open orders"',
        SPOT | keys("orders", "data") | keys(f"{SPOT_ORDER} clientOrderID", "data.orders[]"),
    ),
    Shape(
        "bingx",
        "spot",
        "cancel_order",
        "POST /openApi/spot/v1/trade/cancel",
        f'{FILE}: cancelOrder "spot cancel order"',
        SPOT
        | keys(
            "symbol orderId price origQty executedQty cummulativeQuoteQty status type side",
            "data",
        ),
    ),
    Shape(
        "bingx",
        "spot",
        "fetch_closed_orders",
        "GET /openApi/spot/v1/trade/historyOrders",
        f'{FILE}: fetchClosedOrders "Spot closed order"',
        SPOT | keys("orders", "data") | keys(SPOT_ORDER, "data.orders[]"),
    ),
    Shape(
        "bingx",
        "perpetual_futures",
        "fetch_closed_orders",
        "GET /openApi/swap/v2/trade/allOrders",
        f'{FILE}: fetchClosedOrders "Swap closed order"',
        SWAP | keys("orders", "data") | swap_order("data.orders[]"),
    ),
    Shape(
        "bingx",
        "spot",
        "fetch_my_trades",
        "GET /openApi/spot/v1/trade/myTrades",
        f'{FILE}: fetchMyTrades "Spot trade"',
        SPOT
        | keys("fills", "data")
        | keys(
            "symbol id orderId price qty quoteQty commission commissionAsset time isBuyer isMaker",
            "data.fills[]",
        ),
    ),
    Shape(
        "bingx",
        "perpetual_futures",
        "fetch_my_trades",
        "GET /openApi/swap/v2/trade/allFillOrders",
        f'{FILE}: fetchMyTrades "Swap trade"',
        SWAP
        | keys("fill_orders", "data")
        | keys(
            "filledTm volume price amount commission currency orderId liquidatedPrice "
            "liquidatedMarginRatio filledTime clientOrderID symbol onlyOnePosition",
            "data.fill_orders[]",
        ),
    ),
    Shape(
        "bingx",
        "perpetual_futures",
        "fetch_positions",
        "GET /openApi/swap/v2/user/positions",
        f'{FILE}: fetchPositions "fetch position"',
        SWAP
        | keys(
            "positionId symbol currency positionAmt availableAmt positionSide isolated "
            "avgPrice initialMargin leverage unrealizedProfit realisedProfit liquidationPrice "
            "pnlRatio maxMarginReduction riskRate markPrice positionValue onlyOnePosition",
            "data[]",
        ),
    ),
]
