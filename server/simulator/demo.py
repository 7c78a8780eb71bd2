"""The simulator's demo accounts: well-known keys that only the simulator accepts.

`cts up` starts the simulator with these accounts and creates the connection
"Demo — simulated exchange" with the Binance one, so that a new user sees a working connection
with no network and no keys of their own. They are not secrets: they open nothing but the
simulator.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.simulator.server import Simulator

DEMO_CONNECTION_NAME = "Demo — simulated exchange"


@dataclass(frozen=True, slots=True)
class DemoAccount:
    exchange: str
    api_key: str
    secret: str
    passphrase: str | None = None


DEMO_ACCOUNTS = (
    DemoAccount("binance", "cts-demo-binance-key-0001", "cts-demo-binance-secret-0001"),
    DemoAccount("bybit", "cts-demo-bybit-key-0001", "cts-demo-bybit-secret-0001"),
    DemoAccount("okx", "cts-demo-okx-key-0001", "cts-demo-okx-secret-0001", "cts-demo-passphrase"),
    DemoAccount("bingx", "cts-demo-bingx-key-0001", "cts-demo-bingx-secret-0001"),
    # Kraken secrets are base64: this is base64("cts-demo-kraken-secret-0001").
    DemoAccount("kraken", "cts-demo-kraken-key-0001", "Y3RzLWRlbW8ta3Jha2VuLXNlY3JldC0wMDAx"),
    # Kraken Futures keys are issued apart from spot ones; the secret is
    # base64("cts-demo-krakenfutures-secret-0001").
    DemoAccount(
        "krakenfutures",
        "cts-demo-krakenfutures-key-0001",
        "Y3RzLWRlbW8ta3Jha2VuZnV0dXJlcy1zZWNyZXQtMDAwMQ==",
    ),
    DemoAccount("pionex", "cts-demo-pionex-key-0001", "cts-demo-pionex-secret-0001"),
    DemoAccount("orangex", "cts-demo-orangex-key-0001", "cts-demo-orangex-secret-0001"),
)
DEMO_CONNECTION_ACCOUNT = DEMO_ACCOUNTS[0]


def open_demo_accounts(simulator: Simulator) -> None:
    for account in DEMO_ACCOUNTS:
        simulator.open_account(
            account.exchange,
            api_key=account.api_key,
            secret=account.secret,
            passphrase=account.passphrase,
        )
