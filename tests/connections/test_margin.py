"""Connection tests of margin accounts against the simulator: a good key tests green with the
margin account's balance, read where the exchange keeps that account."""

from __future__ import annotations

import pytest

from tests.connections import test_testing as testing
from tests.connections.conftest import Desk

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
    # The checks of every good key's test (status, balance, steps, log, what is stored).
    await testing.test_a_good_key_tests_green_with_the_right_balance(desk, exchange, "margin")
    asked = {(r.method, r.path) for r in desk.requests()}
    assert MARGIN_BALANCE[exchange] in asked, sorted(asked)
