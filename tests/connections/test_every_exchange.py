"""The connection test on every exchange and API type CTS supports, through CTS's real server
over gRPC (TestConnection), against the simulator's dialect of that exchange: a good key tests
green with its balance, a wrong secret or a revoked key fails as an authentication error, a key
that may withdraw or may not trade gets a warning.

The venues are every pair of ``DIALECTS`` that the simulator speaks, so a new exchange joins on
its own; the tables below list what an exchange cannot do, each with the reason.
"""

from __future__ import annotations

import base64
from decimal import Decimal

import pytest
from cts.connection.v1 import connection_pb2 as pb

from server.simulator.ledger import Account, Permissions
from tests.conftest import auth
from tests.connections.conftest import BALANCES, Desk
from tests.support.venues import DEMO, SIMULATED_AS
from tests.support.venues import VENUES as ALL_VENUES

VENUES = [(v.exchange, v.api_type) for v in ALL_VENUES]

PIONEX_PERMISSIONS = (
    "Pionex's API has no endpoint that reports a key's permissions (its permissions.yaml "
    "lists reading and trading, checked per endpoint)"
)
# Venues where CTS cannot learn what a key may do: the exchange has no endpoint that tells. The
# test proves that the key reads (the balance) and reports trading and withdrawals as unknown,
# so a read-only key or one that may withdraw tests green there.
NO_PERMISSIONS_ENDPOINT = {
    ("kraken", "perpetual_futures"): "Kraken Futures' key check (GET /api/auth/v1/api-keys/v3/"
    "check) documents the key's permissions only as an object, without its fields",
    ("pionex", "spot"): PIONEX_PERMISSIONS,
    ("pionex", "perpetual_futures"): PIONEX_PERMISSIONS,  # when CTS trades it
}
# Which trading permission a read-only key is reported without, by API type.
TRADING_OF = {"spot": "spot_trading", "margin": "spot_trading", "unified": "spot_trading"}


def simulated_as(exchange: str, api_type: str) -> str:
    """The simulator's exchange (ledger and demo account) behind a venue."""
    return SIMULATED_AS.get((exchange, api_type), exchange)


def step(result: pb.ConnectionTestResult, name: str) -> pb.TestStep:
    return next(s for s in result.steps if s.name == name)


def demo_account(desk: Desk, exchange: str, api_type: str) -> Account:
    """The venue's demo account (``cts-demo-<exchange>-key-0001``), holding ``BALANCES``."""
    demo = DEMO[simulated_as(exchange, api_type)]
    return desk.sim.call(
        lambda: desk.simulator.open_account(
            demo.exchange,
            api_key=demo.api_key,
            secret=demo.secret,
            passphrase=demo.passphrase,
            balances=BALANCES,
        )
    )


def wrong_secret(account: Account) -> str:
    """Not the account's secret, in the shape secrets have (base64 suits every exchange)."""
    wrong = base64.b64encode(b"not the secret of this key, really").decode()
    assert wrong != account.secret
    return wrong


# Where a margin account's balance is read: the request the test must make.
MARGIN_BALANCE = {
    "binance": ("GET", "/sapi/v1/margin/account"),  # the cross margin account
    "bybit": ("GET", "/v5/account/wallet-balance"),  # spot margin lives in the unified account
    "okx": ("GET", "/api/v5/account/balance"),
}


@pytest.mark.parametrize(("exchange", "api_type"), VENUES)
async def test_the_demo_key_tests_green_with_its_balance(
    desk: Desk, exchange: str, api_type: str
) -> None:
    account = demo_account(desk, exchange, api_type)
    assert account.api_key == f"cts-demo-{account.exchange}-key-0001"
    connection = await desk.connect(exchange, account, api_type=api_type)

    result = await desk.test(connection.id)

    assert result.status == "success", list(result.log)
    assert Decimal(result.balance) == BALANCES["USDT"]
    # What the venue's account holds (a perpetual account may show its margin asset only).
    balances = {b.asset: Decimal(b.total) for b in result.balances}
    assert "USDT" in balances and balances.items() <= BALANCES.items(), balances
    assert [(s.name, s.status) for s in result.steps] == [
        ("server_time", "ok"),
        ("balance", "ok"),
        ("permissions", "ok"),
    ]
    caps = result.capabilities
    assert caps.read
    if (exchange, api_type) in NO_PERMISSIONS_ENDPOINT:
        assert not any(caps.HasField(f) for f in ("spot_trading", "withdrawals"))
        assert "spot trading unknown" in step(result, "permissions").message
    else:
        assert (caps.spot_trading or caps.derivatives_trading) and not caps.withdrawals
    assert result.is_simulated and result.error_reason == ""
    assert 0 <= result.latency_ms < 2000 and abs(result.clock_drift_ms) < 1000
    assert result.duration_ms >= max(s.duration_ms for s in result.steps)
    # A timestamped line per step, plus the first and the last.
    assert len(result.log) == 5 and all(line[:4].isdigit() and "Z " in line for line in result.log)
    assert "12345.67 USDT" in result.log[2]
    asked = desk.requests(api_key=account.api_key)
    assert {r.exchange for r in asked} == {account.exchange}
    if api_type == "margin":
        assert MARGIN_BALANCE[exchange] in {(r.method, r.path) for r in asked}

    stored = await desk.stub.GetConnection(
        pb.GetConnectionRequest(id=connection.id), metadata=auth()
    )
    assert stored.last_test_status == "success"
    assert Decimal(stored.last_test_balance) == BALANCES["USDT"]
    assert list(stored.last_test_log) == list(result.log)
    assert stored.last_test_at.ToSeconds() == result.tested_at.ToSeconds()
    assert stored.api_capabilities.read and stored.health.success_count >= 3
    for secret in (account.secret, account.passphrase):
        if secret:
            assert secret not in str(result) and secret not in str(stored)


@pytest.mark.parametrize(("exchange", "api_type"), VENUES)
async def test_a_wrong_secret_fails_with_an_authentication_error(
    desk: Desk, exchange: str, api_type: str
) -> None:
    account = desk.account(simulated_as(exchange, api_type))
    wrong = wrong_secret(account)
    connection = await desk.connect(exchange, account, api_type=api_type, secret=wrong)

    result = await desk.test(connection.id)

    assert result.status == "failed" and result.error_reason == "authentication", list(result.log)
    assert step(result, "server_time").status == "ok"  # public: the exchange itself answers
    assert step(result, "balance").status == "failed"
    assert exchange in result.error_message.lower()
    assert wrong not in str(result) and account.secret not in str(result)
    stored = await desk.stub.GetConnection(
        pb.GetConnectionRequest(id=connection.id), metadata=auth()
    )
    assert stored.last_test_status == "failed"
    assert stored.health.last_check_result == "authentication"


@pytest.mark.parametrize(("exchange", "api_type"), VENUES)
async def test_a_revoked_key_fails_with_an_authentication_error(
    desk: Desk, exchange: str, api_type: str
) -> None:
    account = desk.account(simulated_as(exchange, api_type))
    connection = await desk.connect(exchange, account, api_type=api_type)
    assert (await desk.test(connection.id)).status == "success"

    desk.revoke(account)
    result = await desk.test(connection.id)

    assert result.status == "failed" and result.error_reason == "authentication", list(result.log)


@pytest.mark.parametrize(("exchange", "api_type"), VENUES)
async def test_a_read_only_key_gets_a_warning(desk: Desk, exchange: str, api_type: str) -> None:
    account = desk.account(
        simulated_as(exchange, api_type), permissions=Permissions(spot=False, derivatives=False)
    )
    connection = await desk.connect(exchange, account, api_type=api_type)

    result = await desk.test(connection.id)

    permissions = step(result, "permissions")
    if (exchange, api_type) in NO_PERMISSIONS_ENDPOINT:
        # Reading works and is all the exchange lets CTS prove: trading stays unknown.
        assert result.status == "success", list(result.log)
        assert not result.capabilities.HasField("spot_trading")
        assert "spot trading unknown" in permissions.message
        return
    assert result.status == "warning", list(result.log)
    trading = TRADING_OF.get(api_type, "derivatives_trading")
    assert result.capabilities.HasField(trading)
    assert getattr(result.capabilities, trading) is False
    assert permissions.status == "warning" and "trading is not allowed" in permissions.message


@pytest.mark.parametrize(
    ("exchange", "api_type"),
    [pair for pair in VENUES if pair not in NO_PERMISSIONS_ENDPOINT],
)
async def test_a_key_that_may_withdraw_gets_a_warning(
    desk: Desk, exchange: str, api_type: str
) -> None:
    account = desk.account(simulated_as(exchange, api_type), permissions=Permissions(withdraw=True))
    connection = await desk.connect(exchange, account, api_type=api_type)

    result = await desk.test(connection.id)

    assert result.status == "warning" and result.capabilities.withdrawals
    assert step(result, "permissions").status == "warning"
    assert "WITHDRAW" in step(result, "permissions").message
