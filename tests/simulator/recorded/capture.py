"""The simulator's bodies, per (ccxt call, endpoint), for one CTS venue.

Unmodified ccxt, built as CTS builds it (``create_ccxt``), talks to a real ``Simulator``; every
HTTP answer is kept under the call that caused it. The calls are the ones CTS makes, ordered so
that the account has an open order while open orders are listed, and a filled order, a trade
and a position when balances, trades and positions are asked for.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any
from urllib.parse import urlsplit

from server.exchange.ccxt_factory import create_ccxt
from server.simulator.demo import DEMO_ACCOUNTS
from server.simulator.server import Simulator

DEMO = {account.exchange: account for account in DEMO_ACCOUNTS}
# Kraken's perpetuals are Kraken Futures: its own API, keys and USD markets.
SIMULATED_AS = {("kraken", "perpetual_futures"): "krakenfutures"}
SYMBOLS = {("kraken", "perpetual_futures"): "BTC/USD:USD"}
NOTIONAL = 25.0  # quote currency per order: above every venue's minimum, within demo funds
Bodies = dict[tuple[str, str], list[Any]]


def symbol_of(exchange: str, api_type: str) -> str:
    default = "BTC/USDT" if api_type == "spot" else "BTC/USDT:USDT"
    return SYMBOLS.get((exchange, api_type), default)


async def capture(exchange: str, api_type: str) -> Bodies:
    """Every body the simulator sent, keyed by (ccxt call, "METHOD /path")."""
    simulated_as = SIMULATED_AS.get((exchange, api_type), exchange)
    demo = DEMO[simulated_as]
    bodies: Bodies = defaultdict(list)
    simulator = Simulator(seed=7)
    await simulator.start()
    try:
        simulator.open_account(
            simulated_as, api_key=demo.api_key, secret=demo.secret, passphrase=demo.passphrase
        )
        instance = create_ccxt(
            exchange,
            api_type,
            api_key=demo.api_key,
            secret=demo.secret,
            passphrase=demo.passphrase,
            base_url=simulator.base_url,
        )
        current = ["load_markets"]
        send = instance.fetch

        async def fetch(
            url: str, method: str = "GET", headers: Any = None, body: Any = None
        ) -> Any:
            answer = await send(url, method, headers, body)
            bodies[(current[0], f"{method} {urlsplit(url).path}")].append(answer)
            return answer

        instance.fetch = fetch

        async def call(name: str, *args: Any) -> Any:
            current[0] = name
            return await getattr(instance, name)(*args)

        try:
            await trade(instance, call, symbol_of(exchange, api_type), api_type)
        finally:
            await instance.close()
    finally:
        await simulator.stop()
    return dict(bodies)


async def trade(instance: Any, call: Any, symbol: str, api_type: str) -> None:
    """The calls CTS makes: market data, a resting order, a filled one, then the account."""
    await call("load_markets")
    await call("fetch_ticker", symbol)
    await call("fetch_tickers", [symbol])
    await call("fetch_ohlcv", symbol, "1m", None, 5)
    book = await call("fetch_order_book", symbol)
    market = instance.market(symbol)
    price = float(instance.price_to_precision(symbol, book["bids"][0][0] * 0.9))
    wanted = NOTIONAL / (price * (market.get("contractSize") or 1))
    least = market["limits"]["amount"]["min"] or 0.001
    amount = max(least, float(instance.amount_to_precision(symbol, wanted)))
    resting = await call("create_order", symbol, "limit", "buy", amount, price)
    acknowledged = {"acknowledged": True} if instance.id == "bybit" else {}
    await call("fetch_order", resting["id"], symbol, acknowledged)
    await call("fetch_open_orders", symbol)
    await call("cancel_order", resting["id"], symbol)
    await call("create_order", symbol, "market", "buy", amount)
    if instance.has.get("fetchClosedOrders") and instance.id != "krakenfutures":
        await call("fetch_closed_orders", symbol)
    await call("fetch_my_trades", symbol)
    await call("fetch_balance")
    if api_type != "spot":
        await call("fetch_positions", [symbol])


CACHE: dict[tuple[str, str], Bodies] = {}


def captured(exchange: str, api_type: str) -> Bodies:
    """The venue's bodies, captured once per test session (in a loop of their own)."""
    if (exchange, api_type) not in CACHE:
        CACHE[(exchange, api_type)] = asyncio.run(capture(exchange, api_type))
    return CACHE[(exchange, api_type)]
