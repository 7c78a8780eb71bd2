"""The exchanges and API types CTS trades, and how each is reached: the ccxt class (ccxt's own,
or CTS's in ``server.exchange.venues``), its default market type and options.

Plain data, without ccxt: the dashboard offers exactly these pairs, connections are refused at
create/update time for any other, and ``server.exchange.ccxt_factory`` builds instances from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Dialect:
    ccxt_class: str
    default_type: str
    market_types: tuple[str, ...]
    has_off: tuple[str, ...] = ()
    options: tuple[tuple[str, Any], ...] = ()
    # Params every order of the connection carries (a margin account's orders say so).
    order_params: tuple[tuple[str, Any], ...] = ()


# (exchange, api_type) → how to build its ccxt instance.
# Binance: no currencies or margin pairs on load; an account-wide open-orders query is allowed
# (ccxt refuses it by default because of its weight; CTS's engines sync once at start).
BINANCE_OPTIONS = (
    ("fetchCurrencies", False),
    ("fetchMargins", False),
    ("warnOnFetchOpenOrdersWithoutSymbol", False),
)
DIALECTS: dict[tuple[str, str], Dialect] = {
    ("binance", "spot"): Dialect("binance", "spot", ("spot",), options=BINANCE_OPTIONS),
    # Binance cross margin: the spot markets, traded through /sapi/v1/margin. ccxt reads the
    # margin mode from its options for queries, cancels and the balance, but create_order reads
    # it only from the call's params (without it, orders go to the spot account). The default
    # type stays spot: ccxt's fetchTickers refuses the type margin.
    ("binance", "margin"): Dialect(
        "binance",
        "spot",
        ("spot",),
        options=(*BINANCE_OPTIONS, ("marginMode", "cross")),
        order_params=(("marginMode", "cross"),),
    ),
    ("binance", "perpetual_futures"): Dialect(
        "binanceusdm", "future", ("linear",), options=BINANCE_OPTIONS
    ),
    ("bybit", "spot"): Dialect("bybit", "spot", ("spot",), has_off=("fetchCurrencies",)),
    # A unified account trades spot and linear perps; its engines trade the perps
    # (server.engine.loading.MARKET_TYPE), so calls without a symbol (tickers, open orders,
    # positions) ask Bybit for the linear category.
    ("bybit", "unified"): Dialect(
        "bybit", "swap", ("spot", "linear"), has_off=("fetchCurrencies",)
    ),
    # Bybit's spot margin is the unified account's: spot orders with isLeverage 1.
    ("bybit", "margin"): Dialect(
        "bybit",
        "spot",
        ("spot",),
        has_off=("fetchCurrencies",),
        order_params=(("isLeverage", 1),),
    ),
    ("bybit", "perpetual_futures"): Dialect(
        "bybit", "swap", ("linear",), has_off=("fetchCurrencies",)
    ),
    ("okx", "spot"): Dialect("okx", "spot", ("spot",), has_off=("fetchCurrencies",)),
    # OKX spot margin: ccxt sends tdMode cross (with the margin currency) only when the order's
    # params name a margin mode; otherwise tdMode cash, a plain spot order.
    ("okx", "margin"): Dialect(
        "okx",
        "margin",
        ("spot",),
        has_off=("fetchCurrencies",),
        order_params=(("marginMode", "cross"),),
    ),
    ("okx", "perpetual_futures"): Dialect("okx", "swap", ("swap",), has_off=("fetchCurrencies",)),
    # Kraken keeps ccxt's default load (Assets, then AssetPairs): ccxt learns Kraken's asset
    # names (XXBT → BTC) from Assets. Kraken's perpetuals are a separate API with separately
    # issued keys: a kraken perpetual_futures connection is ccxt ``krakenfutures`` with that
    # connection's (futures) keys; its markets are USD perps (BTC/USD:USD).
    ("kraken", "spot"): Dialect("kraken", "spot", ("spot",)),
    ("kraken", "perpetual_futures"): Dialect("krakenfutures", "swap", ("swap",)),
    ("bingx", "spot"): Dialect("bingx", "spot", ("spot",), has_off=("fetchCurrencies",)),
    ("bingx", "perpetual_futures"): Dialect(
        "bingx", "swap", ("swap",), has_off=("fetchCurrencies",)
    ),
    # CTS's own class (server/exchange/venues). CTS's engines place market orders by base
    # amount; Pionex sizes market buys in USDT: they cost the amount at the best ask.
    ("pionex", "spot"): Dialect(
        "pionex", "spot", ("spot",), options=(("marketBuyCostFromBook", True),)
    ),
    # Pionex's perpetuals (openapi_futures.yaml, in beta at Pionex): USDT-margined, BTC/USDT:USDT.
    ("pionex", "perpetual_futures"): Dialect("pionex", "swap", ("swap",)),
    # CTS's own class (server/exchange/venues): OrangeX's USDT perpetuals, amounts in the base
    # asset. OrangeX's spot markets are not traded.
    ("orangex", "perpetual_futures"): Dialect("orangex", "swap", ("swap",)),
}


def supported_api_types(exchange: str) -> tuple[str, ...]:
    """The API types CTS can trade on ``exchange`` (an adapter exists for each)."""
    return tuple(api_type for (name, api_type) in DIALECTS if name == exchange)


def has_market_data(exchange: str, api_type: str) -> bool:
    """Whether CTS can fetch this market's data (it has an exchange adapter for it)."""
    return (exchange, api_type) in DIALECTS
