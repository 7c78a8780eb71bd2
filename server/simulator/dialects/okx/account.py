"""OKX's account: configuration and key permissions, balances and leverage."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from server.simulator.dialects.common import key_number, plain, ratio
from server.simulator.dialects.okx.core import OkxCore
from server.simulator.dialects.okx.errors import OkxError, param_error
from server.simulator.dialects.okx.wire import MAINTENANCE_MARGIN_RATE, Json, Params
from server.simulator.instruments import QUOTE, Kind
from server.simulator.ledger import ZERO, Account, OrderStatus, Side


class OkxAccount(OkxCore):
    # -- the key and the account --------------------------------------------------------------

    def _uid(self, account: Account) -> str:
        return str(key_number(account.api_key, 14))

    def account_config(self, account: Account, _params: Params) -> list[Any]:
        """GET /api/v5/account/config: the account's modes and the key's permissions."""
        granted = account.permissions
        perm = [
            name
            for name, has in (
                ("read_only", granted.read),
                ("withdraw", granted.withdraw),
                ("trade", granted.spot or granted.derivatives),
            )
            if has
        ]
        uid = self._uid(account)
        return [
            {
                "acctLv": "2",
                "acctStpMode": "cancel_maker",
                "autoLoan": False,
                "ctIsoMode": "automatic",
                "enableSpotBorrow": False,
                "feeType": "0",
                "greeksType": "PA",
                "ip": "",
                "type": "0",
                "kycLv": "1",
                "label": "CTS exchange simulator",
                "level": "Lv1",
                "levelTmp": "",
                "liquidationGear": "-1",
                "mainUid": uid,
                "mgnIsoMode": "automatic",
                "opAuth": "0",
                "perm": ",".join(perm),
                "posMode": "net_mode",
                "roleType": "0",
                "spotBorrowAutoRepay": False,
                "spotOffsetType": "",
                "spotRoleType": "0",
                "spotTraderInsts": [],
                "traderInsts": [],
                "uid": uid,
                "settleCcy": QUOTE,
                "settleCcyList": [QUOTE],
            }
        ]

    def account_balance(self, account: Account, params: Params) -> list[Any]:
        """GET /api/v5/account/balance (optional ``ccy``, comma-separated)."""
        self.ledger.match(account)
        wanted = params.text("ccy")
        held = [asset for asset, b in account.balances.items() if b.total != 0]
        assets = wanted.split(",") if wanted else held
        positions = self.ledger.positions(account)
        upl = sum((p.unrealized(self.ledger.last_price(p.instrument)) for p in positions), ZERO)
        details = [
            self._detail(account, asset, upl if asset == QUOTE else ZERO) for asset in assets
        ]
        total = sum((Decimal(d["eqUsd"]) for d in details), ZERO)
        initial = sum((p.margin for p in positions), ZERO)
        notional = sum(
            (abs(p.size) * self.ledger.last_price(p.instrument) for p in positions), ZERO
        )
        maintenance = notional * MAINTENANCE_MARGIN_RATE
        now = str(self.now_ms())
        return [
            {
                "adjEq": "",
                "availEq": "",
                "borrowFroz": "",
                "delta": "",
                "deltaLever": "",
                "deltaNeutralStatus": "0",
                "details": details,
                "imr": plain(initial),
                "isoEq": "0",
                "mgnRatio": plain(ratio(total, maintenance)) if maintenance else "",
                "mmr": "",
                "notionalUsd": plain(notional),
                "notionalUsdForBorrow": "0",
                "notionalUsdForFutures": "0",
                "notionalUsdForOption": "0",
                "notionalUsdForSwap": plain(notional),
                "ordFroz": "",
                "totalEq": plain(total),
                "uTime": now,
                "upl": plain(upl),
            }
        ]

    def _detail(self, account: Account, asset: str, upl: Decimal) -> Json:
        balance = account.balances.get(asset)
        free = balance.free if balance else ZERO
        locked = balance.locked if balance else ZERO
        orders = sum(
            (
                o.locked
                for o in account.orders.values()
                if o.status is OrderStatus.OPEN
                and (
                    o.instrument.quote
                    if o.instrument.kind is Kind.LINEAR or o.side is Side.BUY
                    else o.instrument.base
                )
                == asset
            ),
            ZERO,
        )
        positions = [p for p in account.positions.values() if p.size != 0] if asset == QUOTE else []
        position_margin = sum((p.margin for p in positions), ZERO)
        cash = free + locked
        equity = cash + upl
        return {
            "accAvgPx": "",
            "availBal": plain(free),
            "availEq": plain(free + upl),
            "borrowFroz": "",
            "cashBal": plain(cash),
            "ccy": asset,
            "clSpotInUseAmt": "",
            "colBorrAutoConversion": "0",
            "collateralEnabled": True,
            "collateralRestrict": False,
            "crossLiab": "",
            "disEq": plain(equity * self._mark(asset)),
            "eq": plain(equity),
            "eqUsd": plain(equity * self._mark(asset)),
            "fixedBal": "0",
            "frozenBal": plain(locked),
            "imr": plain(position_margin) if asset == QUOTE else "",
            "interest": "",
            "isoEq": "0",
            "isoLiab": "",
            "isoUpl": "0",
            "liab": "",
            "maxLoan": "",
            "maxSpotInUse": "",
            "mgnRatio": "",
            "mmr": "",
            "notionalLever": "",
            "openAvgPx": "",
            "ordFrozen": plain(orders),
            "rewardBal": "0",
            "smtSyncEq": "0",
            "spotBal": "",
            "spotCopyTradingEq": "0",
            "spotInUseAmt": "",
            "spotIsoBal": "0",
            "spotUpl": "",
            "spotUplRatio": "",
            "stgyEq": "0",
            "totalPnl": "",
            "totalPnlRatio": "",
            "twap": "0",
            "uTime": str(self.now_ms()),
            "upl": plain(upl),
            "uplLiab": "",
        }

    def set_leverage(self, account: Account, params: Params) -> list[Any]:
        """POST /api/v5/account/set-leverage: the simulator keeps one leverage per account."""
        lever = params.decimal("lever")
        margin_mode = params.required("mgnMode")
        if margin_mode not in ("cross", "isolated"):
            raise param_error("mgnMode")
        inst_id = params.text("instId")
        maximum = 100
        if inst_id is not None:
            maximum = self._instrument(inst_id).max_leverage
        if lever is None or lever != lever.to_integral_value() or not 1 <= lever <= maximum:
            raise OkxError("59102", f"Leverage exceeds the maximum leverage {maximum}")
        account.leverage = int(lever)
        return [
            {
                "lever": str(account.leverage),
                "mgnMode": margin_mode,
                "instId": inst_id or "",
                "posSide": params.text("posSide") or "net",
            }
        ]

    def leverage_info(self, account: Account, params: Params) -> list[Any]:
        """GET /api/v5/account/leverage-info: the account's leverage for each instrument asked
        (``instId``, comma-separated) in the margin mode asked."""
        margin_mode = params.required("mgnMode")
        if margin_mode not in ("cross", "isolated"):
            raise param_error("mgnMode")
        inst_ids = params.required("instId").split(",")
        for inst_id in inst_ids:
            self._instrument(inst_id)
        return [
            {
                "instId": inst_id,
                "mgnMode": margin_mode,
                "posSide": "net",
                "lever": str(account.leverage),
            }
            for inst_id in inst_ids
        ]
