"""BingX's account endpoints: balances, coins, the key's permissions, positions, leverage.

The ledger keeps one wallet per account; the spot balance shows every asset of it, the swap
balance its USDT (the margin asset). Leverage is one setting per account in the ledger, so
setting it on one symbol sets it for every symbol.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from server.simulator.dialects.bingx.wire import (
    Json,
    Params,
    Venue,
    bad_parameter,
    fmt,
    market_id,
)
from server.simulator.instruments import ASSETS, QUOTE, Kind
from server.simulator.ledger import Account, OrderStatus, Position

ZERO = Decimal(0)
MAINTENANCE_MARGIN_RATE = Decimal("0.005")


def short_uid(account: Account) -> str:
    return str(int(hashlib.sha256(account.api_key.encode()).hexdigest()[:8], 16) % 10**8)


def spot_balance(venue: Venue, account: Account, _params: Params) -> Json:
    """GET /openApi/spot/v1/account/balance"""
    venue.ledger.match(account)
    return {
        "balances": [
            {"asset": asset, "free": fmt(b.free), "locked": fmt(b.locked)}
            for asset, b in account.balances.items()
            if b.total != 0
        ]
    }


def swap_balance(venue: Venue, account: Account, _params: Params) -> list[Json]:
    """GET /openApi/swap/v3/user/balance: the USDT margin of the account."""
    positions = venue.ledger.positions(account)
    wallet = account.balance(QUOTE)
    upl = sum((p.unrealized(venue.ledger.last_price(p.instrument)) for p in positions), ZERO)
    frozen = sum(
        (
            o.locked
            for o in account.orders.values()
            if o.status is OrderStatus.OPEN and o.instrument.kind is Kind.LINEAR
        ),
        ZERO,
    )
    realised = sum((p.realized_pnl for p in account.positions.values()), ZERO)
    uid = short_uid(account)
    return [
        {
            "userId": f"{uid[:3]}***{uid[-3:]}",
            "asset": QUOTE,
            "balance": fmt(wallet.total),
            "equity": fmt(wallet.total + upl),
            "unrealizedProfit": fmt(upl),
            "realisedProfit": fmt(realised),
            "availableMargin": fmt(wallet.free),
            "usedMargin": fmt(wallet.locked),
            "freezedMargin": fmt(frozen),
            "shortUid": uid,
        }
    ]


def coins(_venue: Venue, _account: Account, _params: Params) -> list[Json]:
    """GET /openApi/wallets/v1/capital/config/getall: one network per coin, no withdrawals."""
    codes = [QUOTE, *(a.code for a in ASSETS)]
    return [
        {
            "coin": code,
            "name": code,
            "networkList": [
                {
                    "name": code,
                    "network": code,
                    "isDefault": True,
                    "minConfirm": "1",
                    "withdrawEnable": False,
                    "depositEnable": False,
                    "withdrawFee": "0",
                    "withdrawMax": "0",
                    "withdrawMin": "0",
                    "depositMin": "0",
                    "withdrawPrecision": "8",
                    "depositPrecision": "8",
                    "contractAddress": "",
                    "needTagOrMemo": "false",
                    "displayName": code,
                }
            ],
        }
        for code in codes
    ]


def api_permissions(_venue: Venue, account: Account, _params: Params) -> Json:
    """GET /openApi/v1/account/apiPermissions: 1 spot, 2 read, 3 perpetual, 5 withdraw."""
    granted = account.permissions
    permissions = [
        number
        for number, allowed in (
            (1, granted.spot),
            (2, granted.read),
            (3, granted.derivatives),
            (5, granted.withdraw),
        )
        if allowed
    ]
    return {"ipAddresses": [], "note": "CTS exchange simulator", "permissions": permissions}


def positions(venue: Venue, account: Account, params: Params) -> list[Json]:
    """GET /openApi/swap/v2/user/positions (one symbol, or every open position)."""
    symbol = params.text("symbol")
    wanted = venue.instrument(Kind.LINEAR, symbol) if symbol else None
    return [
        position_view(venue, account, p)
        for p in venue.ledger.positions(account)
        if wanted is None or p.instrument == wanted
    ]


def position_view(venue: Venue, account: Account, position: Position) -> Json:
    instrument = position.instrument
    mark = venue.ledger.last_price(instrument)
    size = abs(position.size)
    upl = position.unrealized(mark)
    digest = hashlib.sha256(f"{account.api_key}:{instrument.symbol}".encode()).hexdigest()
    return {
        "positionId": str(int(digest[:15], 16)),
        "symbol": market_id(instrument),
        "currency": instrument.quote,
        "positionAmt": fmt(size),
        "availableAmt": fmt(size),
        "positionSide": "LONG" if position.size > 0 else "SHORT",
        "isolated": account.margin_mode == "isolated",
        "avgPrice": fmt(position.entry_price),
        "initialMargin": fmt(position.margin),
        "margin": fmt(position.margin + upl),
        "leverage": account.leverage,
        "unrealizedProfit": fmt(upl),
        "realisedProfit": fmt(position.realized_pnl),
        "liquidationPrice": 0,
        "pnlRatio": fmt((upl / position.margin).quantize(Decimal("0.0001")))
        if position.margin
        else "0",
        "maxMarginReduction": "0",
        "riskRate": fmt(
            (size * mark * MAINTENANCE_MARGIN_RATE / (position.margin + upl)).quantize(
                Decimal("0.0001")
            )
        )
        if position.margin + upl > 0
        else "0",
        "markPrice": fmt(mark),
        "positionValue": fmt(size * mark),
        "onlyOnePosition": True,
        "updateTime": position.updated_ms,
    }


def leverage(venue: Venue, account: Account, params: Params) -> Json:
    """GET /openApi/swap/v2/trade/leverage"""
    instrument = venue.instrument(Kind.LINEAR, params.required("symbol"))
    return {
        "longLeverage": account.leverage,
        "shortLeverage": account.leverage,
        "maxLongLeverage": instrument.max_leverage,
        "maxShortLeverage": instrument.max_leverage,
        "availableLongVol": "0",
        "availableShortVol": "0",
        "availableLongVal": "0",
        "availableShortVal": "0",
        "maxPositionLongVal": "0",
        "maxPositionShortVal": "0",
    }


def set_leverage(venue: Venue, account: Account, params: Params) -> Json:
    """POST /openApi/swap/v2/trade/leverage (side LONG, SHORT or BOTH)."""
    instrument = venue.instrument(Kind.LINEAR, params.required("symbol"))
    if params.required("side") not in ("LONG", "SHORT", "BOTH"):
        raise bad_parameter(Kind.LINEAR, "side must be LONG, SHORT or BOTH")
    value = params.integer("leverage")
    if value is None or not 1 <= value <= instrument.max_leverage:
        raise bad_parameter(
            Kind.LINEAR, f"leverage must be between 1 and {instrument.max_leverage}"
        )
    account.leverage = value
    return {
        "leverage": value,
        "symbol": market_id(instrument),
        "availableLongVol": "0",
        "availableShortVol": "0",
        "availableLongVal": "0",
        "availableShortVal": "0",
        "maxPositionLongVal": "0",
        "maxPositionShortVal": "0",
    }
