"""Connection tests that only Kraken has: base64 secrets, and futures keys issued apart from
spot keys (CTS's server over gRPC, ccxt's ``kraken`` and ``krakenfutures`` signing real requests
to the simulator's Kraken dialects). What every exchange does is in ``test_every_exchange.py``."""

from __future__ import annotations

from decimal import Decimal

from cts.connection.v1 import connection_pb2 as pb

from server.simulator.demo import DEMO_ACCOUNTS
from tests.connections.conftest import BALANCES, Desk


def step(result: pb.ConnectionTestResult, name: str) -> pb.TestStep:
    return next(s for s in result.steps if s.name == name)


async def test_a_secret_that_is_not_base64_fails_with_an_authentication_error(
    desk: Desk,
) -> None:
    account = desk.account("kraken")
    wrong = "this is not base64!"
    connection = await desk.connect("kraken", account, api_type="spot", secret=wrong)

    result = await desk.test(connection.id)

    assert result.status == "failed" and result.error_reason == "authentication"
    assert "base64" in result.error_message and wrong not in str(result)


async def test_a_perpetual_futures_connection_takes_a_futures_key_not_a_spot_one(
    desk: Desk,
) -> None:
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
