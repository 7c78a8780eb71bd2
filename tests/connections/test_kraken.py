"""Connection tests of simulated Kraken spot connections: CTS's server over gRPC, ccxt's
``kraken`` signing real requests to the simulator's Kraken dialect."""

from __future__ import annotations

import base64
from decimal import Decimal

from cts.connection.v1 import connection_pb2 as pb

from server.simulator.demo import DEMO_ACCOUNTS
from tests.connections.conftest import BALANCES, Desk


def step(result: pb.ConnectionTestResult, name: str) -> pb.TestStep:
    return next(s for s in result.steps if s.name == name)


async def test_the_demo_key_tests_green_with_its_balance(desk: Desk) -> None:
    demo = next(a for a in DEMO_ACCOUNTS if a.exchange == "kraken")
    account = desk.sim.call(
        lambda: desk.simulator.open_account(
            "kraken", api_key=demo.api_key, secret=demo.secret, balances=BALANCES
        )
    )
    connection = await desk.connect("kraken", account, api_type="spot")

    result = await desk.test(connection.id)

    assert result.status == "success", list(result.log)
    assert Decimal(result.balance) == BALANCES["USDT"]
    assert {b.asset: Decimal(b.total) for b in result.balances} == {
        "USDT": BALANCES["USDT"],
        "BTC": BALANCES["BTC"],
    }
    assert [(s.name, s.status) for s in result.steps] == [
        ("server_time", "ok"),
        ("balance", "ok"),
        ("permissions", "ok"),  # Kraken does not tell a key's permissions: read is proven
    ]
    assert result.is_simulated and result.error_reason == ""
    assert demo.secret not in str(result)
    paths = {r.path for r in desk.requests(exchange="kraken", api_key=demo.api_key)}
    assert "/0/private/BalanceEx" in paths


async def test_a_wrong_secret_fails_with_an_authentication_error(desk: Desk) -> None:
    account = desk.account("kraken")
    wrong = base64.b64encode(b"not the secret of this key").decode()
    connection = await desk.connect("kraken", account, api_type="spot", secret=wrong)

    result = await desk.test(connection.id)

    assert result.status == "failed" and result.error_reason == "authentication"
    assert step(result, "server_time").status == "ok"  # public: the exchange itself answers
    assert step(result, "balance").status == "failed"
    assert "kraken" in result.error_message.lower()
    assert wrong not in str(result) and account.secret not in str(result)


async def test_a_secret_that_is_not_base64_fails_with_an_authentication_error(
    desk: Desk,
) -> None:
    account = desk.account("kraken")
    wrong = "this is not base64!"
    connection = await desk.connect("kraken", account, api_type="spot", secret=wrong)

    result = await desk.test(connection.id)

    assert result.status == "failed" and result.error_reason == "authentication"
    assert "base64" in result.error_message and wrong not in str(result)


async def test_a_revoked_key_fails_with_an_authentication_error(desk: Desk) -> None:
    account = desk.account("kraken")
    connection = await desk.connect("kraken", account, api_type="spot")
    assert (await desk.test(connection.id)).status == "success"

    desk.revoke(account)
    result = await desk.test(connection.id)

    assert result.status == "failed" and result.error_reason == "authentication"


async def test_a_perpetual_futures_connection_uses_the_futures_demo_key(desk: Desk) -> None:
    demo = next(a for a in DEMO_ACCOUNTS if a.exchange == "krakenfutures")
    account = desk.sim.call(
        lambda: desk.simulator.open_account(
            "krakenfutures", api_key=demo.api_key, secret=demo.secret, balances=BALANCES
        )
    )
    connection = await desk.connect("kraken", account, api_type="perpetual_futures")

    result = await desk.test(connection.id)

    assert result.status == "success", list(result.log)
    assert Decimal(result.balance) == BALANCES["USDT"]
    paths = {r.path for r in desk.requests(exchange="krakenfutures", api_key=demo.api_key)}
    assert "/derivatives/api/v3/accounts" in paths
    # The spot key is not a futures key: Kraken issues them apart.
    spot = desk.account("kraken")
    wrong = await desk.connect("kraken", spot, api_type="perpetual_futures")
    refused = await desk.test(wrong.id)
    assert refused.status == "failed" and refused.error_reason == "authentication"
