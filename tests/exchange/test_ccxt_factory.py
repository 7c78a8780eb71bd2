"""How CTS builds ccxt instances: the testnet flag, the simulator's URLs, unsupported pairs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from server.engine.loading import MARKET_TYPE
from server.exchange.catalogue import DIALECTS
from server.exchange.ccxt_factory import UnsupportedConnection, create_ccxt

Make = Callable[..., Any]
EXPECTED_TESTNET_HOSTS = {
    ("binance", "spot"): "testnet.binance.vision",
    ("binance", "perpetual_futures"): "testnet.binancefuture.com",
    # ccxt fills in bybit's host name at request time.
    ("bybit", "spot"): "https://api-testnet.",
    ("bybit", "perpetual_futures"): "https://api-testnet.",
}


@pytest.fixture
async def make() -> AsyncIterator[Make]:
    made: list[Any] = []

    def build(*args: Any, **kwargs: Any) -> Any:
        instance = create_ccxt(*args, **kwargs)
        made.append(instance)
        return instance

    yield build
    for instance in made:
        await instance.close()


def urls_of(instance: Any) -> list[str]:
    api = instance.urls["api"]
    return [api] if isinstance(api, str) else [u for u in api.values() if isinstance(u, str)]


@pytest.mark.parametrize(("exchange", "api_type"), sorted(EXPECTED_TESTNET_HOSTS))
def test_the_testnet_flag_points_ccxt_at_the_testnet(
    make: Make, exchange: str, api_type: str
) -> None:
    live = make(exchange, api_type)
    test = make(exchange, api_type, testnet=True)
    host = EXPECTED_TESTNET_HOSTS[(exchange, api_type)]
    assert any(host in url for url in urls_of(test)), urls_of(test)
    assert not any("testnet" in url for url in urls_of(live))


def test_okx_testnet_is_its_demo_trading_header(make: Make) -> None:
    """OKX has no testnet host: demo trading is the live host with `x-simulated-trading: 1`."""
    instance = make("okx", "spot", testnet=True)
    assert instance.headers.get("x-simulated-trading") == "1"
    assert "x-simulated-trading" not in (make("okx", "spot").headers or {})


def test_the_simulator_replaces_every_host_and_keeps_the_paths(make: Make) -> None:
    instance = make("binance", "perpetual_futures", base_url="http://127.0.0.1:9")
    urls = urls_of(instance)
    assert urls and all(url.startswith("http://127.0.0.1:9/") for url in urls)
    assert any(url.endswith("/fapi/v1") for url in urls)


# ccxt's default types, as the market type (ccxt's market["type"]) they ask for.
DEFAULT_TYPE_MARKETS = {"spot": "spot", "margin": "spot", "swap": "swap", "future": "swap"}


@pytest.mark.parametrize(("exchange", "api_type"), sorted(DIALECTS))
def test_calls_without_a_symbol_ask_for_the_markets_an_engine_trades(
    make: Make, exchange: str, api_type: str
) -> None:
    """Tickers, open orders and positions fetched without a symbol are those of the instance's
    default type: it must be the market type the connection's engines trade (on a Bybit
    unified account, spot tickers left every perp without volume and positions were refused)."""
    instance = make(exchange, api_type)
    default_type, _ = instance.handle_market_type_and_params("fetchTickers", None, {})
    assert DEFAULT_TYPE_MARKETS[default_type] == MARKET_TYPE[api_type]


def test_an_exchange_and_api_type_without_an_adapter_is_refused() -> None:
    with pytest.raises(UnsupportedConnection, match="pionex margin"):
        create_ccxt("pionex", "margin")  # Pionex spot and perpetuals have CTS's own class
    with pytest.raises(UnsupportedConnection, match="bybit options"):
        create_ccxt("bybit", "options")


def test_kraken_nonces_of_one_key_increase_across_its_instances(make: Make) -> None:
    """Kraken refuses a nonce not above the key's last; ccxt's is the millisecond, which two
    instances of a key (or one, quickly) share."""
    secret = "Y3RzLWRlbW8ta3Jha2VuLXNlY3JldC0wMDAx"
    one, two = (make("kraken", "spot", api_key="kraken-key-1", secret=secret) for _ in range(2))
    other = make("kraken", "spot", api_key="kraken-key-2", secret=secret)
    before = one.milliseconds()

    drawn = [instance.nonce() for _ in range(200) for instance in (one, two)]

    assert drawn == sorted(set(drawn)) and drawn[0] >= before  # strictly increasing, from now
    assert other.nonce() <= one.milliseconds() + 1  # another key has its own sequence
