"""Pionex's REST endpoints as ccxt declares an exchange's implicit API (``ccxt/abstract``)."""

from __future__ import annotations

from ccxt.base.types import Entry

V1 = "api/v1/"  # spot, and the public data of both kinds
U1 = "uapi/v1/"  # perpetuals' account and trading
W5 = {"cost": 5}


class ImplicitAPI:
    """Pionex's endpoints, as ccxt's generated ``abstract`` classes declare theirs."""

    public_get_common_symbols = Entry(V1 + "common/symbols", "public", "GET", {"cost": 5})
    public_get_market_tickers = Entry(V1 + "market/tickers", "public", "GET", {"cost": 1})
    public_get_market_booktickers = Entry(V1 + "market/bookTickers", "public", "GET", {"cost": 1})
    public_get_market_klines = Entry(V1 + "market/klines", "public", "GET", {"cost": 1})
    public_get_market_depth = Entry(V1 + "market/depth", "public", "GET", {"cost": 1})
    private_get_account_balances = Entry(V1 + "account/balances", "private", "GET", {"cost": 1})
    private_post_trade_order = Entry(V1 + "trade/order", "private", "POST", {"cost": 1})
    private_delete_trade_order = Entry(V1 + "trade/order", "private", "DELETE", {"cost": 1})
    private_get_trade_order = Entry(V1 + "trade/order", "private", "GET", {"cost": 1})
    private_get_trade_orderbyclientorderid = Entry(
        V1 + "trade/orderByClientOrderId", "private", "GET", {"cost": 1}
    )
    private_get_trade_openorders = Entry(V1 + "trade/openOrders", "private", "GET", {"cost": 5})
    private_get_trade_allorders = Entry(V1 + "trade/allOrders", "private", "GET", {"cost": 5})
    private_get_trade_fills = Entry(V1 + "trade/fills", "private", "GET", {"cost": 5})
    public_get_market_bookticker = Entry(V1 + "market/bookTicker", "public", "GET", {"cost": 5})
    # Perpetuals: the account and trading (openapi_futures.yaml; every endpoint weighs 5)
    private_get_uapi_account_balances = Entry(U1 + "account/balances", "private", "GET", W5)
    private_get_uapi_account_positions = Entry(U1 + "account/positions", "private", "GET", W5)
    private_get_uapi_account_leverage = Entry(U1 + "account/leverage", "private", "GET", W5)
    private_post_uapi_account_leverage = Entry(U1 + "account/leverage", "private", "POST", W5)
    private_post_uapi_trade_order = Entry(U1 + "trade/order", "private", "POST", W5)
    private_delete_uapi_trade_order = Entry(U1 + "trade/order", "private", "DELETE", W5)
    private_get_uapi_trade_order = Entry(U1 + "trade/order", "private", "GET", W5)
    private_get_uapi_trade_orderbyclientorderid = Entry(
        U1 + "trade/orderByClientOrderId", "private", "GET", W5
    )
    private_get_uapi_trade_openorders = Entry(U1 + "trade/openOrders", "private", "GET", W5)
    private_get_uapi_trade_historyorders = Entry(U1 + "trade/historyOrders", "private", "GET", W5)
    private_get_uapi_trade_fills = Entry(U1 + "trade/fills", "private", "GET", W5)
