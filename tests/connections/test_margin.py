"""Connection tests of margin accounts against the simulator: a good key tests green with the
margin account's balance, read where the exchange keeps that account."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.connections.conftest import BALANCES, Desk

# The request that reads each exchange's margin balance.
MARGIN_BALANCE = {
    "binance": ("GET", "/sapi/v1/margin/account"),  # the cross margin account
    "bybit": ("GET", "/v5/account/wallet-balance"),  # spot margin lives in the unified account
    "okx": ("GET", "/api/v5/account/balance"),
}


@pytest.mark.parametrize("exchange", sorted(MARGIN_BALANCE))
async def test_a_good_key_on_a_margin_account_tests_green_with_its_balance(
    desk: Desk, exchange: str
) -> None:
    account = desk.account(exchange)
    connection = await desk.connect(exchange, account, api_type="margin")

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
        ("permissions", "ok"),
    ]
    asked = {(r.method, r.path) for r in desk.requests(api_key=account.api_key)}
    assert MARGIN_BALANCE[exchange] in asked, sorted(asked)
