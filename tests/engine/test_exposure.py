"""The live-exposure rule on its own: one live position per symbol and the notional limits,
counting orders in flight."""

from __future__ import annotations

import uuid
from decimal import Decimal

from server.engine.exposure import Allowance, Exposure

D = Decimal
LIVE = Allowance(on=True, max_position=D(100), max_total=D(150), spot=False)


def test_a_symbol_is_taken_from_admission_until_release() -> None:
    exposure = Exposure()
    first, second = uuid.uuid4(), uuid.uuid4()
    ticket = exposure.admit_open(first, "ATOM/USDT", short=False, notional=D(50), allowance=LIVE)
    assert ticket is not None
    # The first open has not even been sent: the symbol is taken all the same.
    assert (
        exposure.admit_open(second, "ATOM/USDT", short=False, notional=D(50), allowance=LIVE)
        is None
    )
    exposure.settle(ticket)
    exposure.hold(first, "ATOM/USDT", D(49))  # filled
    assert (
        exposure.admit_open(second, "ATOM/USDT", short=True, notional=D(50), allowance=LIVE) is None
    )
    exposure.release(first)  # closed
    assert (
        exposure.admit_open(second, "ATOM/USDT", short=False, notional=D(50), allowance=LIVE)
        is not None
    )
    assert exposure.refused == 0  # the symbol rule is not a limit refusal


def test_an_open_whose_order_failed_frees_the_symbol() -> None:
    exposure = Exposure()
    followed = uuid.uuid4()
    ticket = exposure.admit_open(followed, "BNB/USDT", short=False, notional=D(50), allowance=LIVE)
    assert ticket is not None
    exposure.settle(ticket)
    exposure.release(followed)
    assert exposure.total == 0 and exposure.symbols == frozenset()


def test_the_total_limit_counts_opens_and_adds_in_flight() -> None:
    exposure = Exposure()
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    assert exposure.admit_open(a, "A/USDT", short=False, notional=D(60), allowance=LIVE)
    assert exposure.admit_open(b, "B/USDT", short=False, notional=D(60), allowance=LIVE)
    assert exposure.total == 120  # nothing filled yet: both count
    assert exposure.admit_open(c, "C/USDT", short=False, notional=D(40), allowance=LIVE) is None
    assert exposure.refused == 1
    assert exposure.admit_add(a, notional=D(40), allowance=LIVE) is None  # 160 > 150
    assert exposure.admit_add(a, notional=D(30), allowance=LIVE) is not None  # 150
    assert exposure.total == 150
    assert exposure.position_notional(a) == 90


def test_the_position_limit_counts_adds_in_flight() -> None:
    exposure = Exposure()
    followed = uuid.uuid4()
    opening = exposure.admit_open(followed, "A/USDT", short=False, notional=D(50), allowance=LIVE)
    assert opening is not None
    exposure.settle(opening)
    exposure.hold(followed, "A/USDT", D(50))
    add = exposure.admit_add(followed, notional=D(40), allowance=LIVE)
    assert add is not None  # 90 <= 100
    # The first add is still in flight: a second one would make the position 130.
    assert exposure.admit_add(followed, notional=D(40), allowance=LIVE) is None
    exposure.settle(add)
    exposure.hold(followed, "A/USDT", D(90))
    assert exposure.admit_add(followed, notional=D(10), allowance=LIVE) is not None


def test_an_order_with_an_unknown_outcome_stays_reserved() -> None:
    exposure = Exposure()
    followed = uuid.uuid4()
    ticket = exposure.admit_open(followed, "A/USDT", short=False, notional=D(100), allowance=LIVE)
    assert ticket is not None
    # Never settled (the exchange may have filled it): still counted.
    assert exposure.total == 100
    assert (
        exposure.admit_open(uuid.uuid4(), "B/USDT", short=False, notional=D(60), allowance=LIVE)
        is None
    )


def test_a_restored_position_with_a_pending_open_counts_at_the_order_value() -> None:
    exposure = Exposure()
    exposure.hold(uuid.uuid4(), "A/USDT", D(100))  # quantity 0, its order of 100 pending
    assert exposure.symbols == {"A/USDT"}
    assert (
        exposure.admit_open(uuid.uuid4(), "A/USDT", short=False, notional=D(10), allowance=LIVE)
        is None
    )
    assert (
        exposure.admit_open(uuid.uuid4(), "B/USDT", short=False, notional=D(60), allowance=LIVE)
        is None
    )


def test_nothing_without_live_trading_and_no_shorts_on_spot() -> None:
    exposure = Exposure()
    off = Allowance(on=False, max_position=D(100), max_total=D(150), spot=False)
    spot = Allowance(on=True, max_position=D(100), max_total=D(150), spot=True)
    assert (
        exposure.admit_open(uuid.uuid4(), "A/USDT", short=False, notional=D(1), allowance=off)
        is None
    )
    assert (
        exposure.admit_open(uuid.uuid4(), "A/USDT", short=True, notional=D(1), allowance=spot)
        is None
    )
    assert exposure.admit_open(uuid.uuid4(), "A/USDT", short=False, notional=D(1), allowance=spot)
