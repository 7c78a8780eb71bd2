"""Bybit's key and unified account: permissions, account info and wallet balance."""

from __future__ import annotations

from decimal import Decimal

from server.simulator.dialects.bybit.core import BybitCore
from server.simulator.dialects.bybit.errors import params_error
from server.simulator.dialects.bybit.wire import MAINTENANCE_MARGIN_RATE, Json, Params, iso
from server.simulator.dialects.common import key_number, plain, ratio
from server.simulator.instruments import QUOTE, Kind
from server.simulator.ledger import ZERO, Account, OrderStatus, Side


class BybitAccount(BybitCore):
    # -- the key and the account --------------------------------------------------------------

    def query_api(self, account: Account, _params: Params) -> Json:
        """GET /v5/user/query-api: the key's permissions (any key may call it)."""
        granted = account.permissions
        user_id = key_number(account.api_key, 8) % 10**8
        trades = granted.spot or granted.derivatives
        return {
            "id": str(user_id),
            "note": "CTS exchange simulator",
            "apiKey": account.api_key,
            "readOnly": 0 if trades or granted.withdraw else 1,
            "secret": "",
            "permissions": {
                "ContractTrade": ["Order", "Position"] if granted.derivatives else [],
                "Spot": ["SpotTrade"] if granted.spot else [],
                "Wallet": ["Withdraw"] if granted.withdraw else [],
                "Options": [],
                "Derivatives": ["DerivativesTrade"] if granted.derivatives else [],
                "CopyTrading": [],
                "BlockTrade": [],
                "Exchange": [],
                "NFT": [],
                "Affiliate": [],
                "Earn": [],
            },
            "ips": ["*"],
            "type": 1,
            "deadlineDay": -1,
            "expiredAt": "",
            "createdAt": iso(self._started_ms),
            "unified": 0,
            "uta": 1,
            "userID": user_id,
            "inviterID": 0,
            "vipLevel": "No VIP",
            "mktMakerLevel": "0",
            "affiliateID": 0,
            "rsaPublicKey": "",
            "isMaster": True,
            "parentUid": "0",
            "kycLevel": "LEVEL_1",
            "kycRegion": "",
        }

    def account_info(self, account: Account, _params: Params) -> Json:
        """GET /v5/account/info: a unified trading account (UTA 2.0 Pro)."""
        mode = "ISOLATED_MARGIN" if account.margin_mode == "isolated" else "REGULAR_MARGIN"
        return {
            "unifiedMarginStatus": 6,
            "marginMode": mode,
            "isMasterTrader": False,
            "spotHedgingStatus": "OFF",
            "updatedTime": str(self._started_ms),
            "dcpStatus": "OFF",
            "timeWindow": 10,
            "smpGroup": 0,
        }

    def wallet_balance(self, account: Account, params: Params) -> Json:
        """GET /v5/account/wallet-balance (accountType UNIFIED, the only one a UTA 2.0 has)."""
        if params.required("accountType") != "UNIFIED":
            raise params_error("accountType only support UNIFIED.")
        self.ledger.match(account)
        wanted = params.text("coin")
        held = [asset for asset, b in account.balances.items() if b.total != 0]
        coins = wanted.split(",") if wanted else held
        summary = self._account_summary(account, held)
        return {"list": [summary | {"coin": [self._coin(account, asset) for asset in coins]}]}

    def _account_summary(self, account: Account, held: list[str]) -> Json:
        """The account-wide totals of a unified account, in USD(T)."""
        positions = self.ledger.positions(account)
        marks = {p.instrument: self.ledger.last_price(p.instrument) for p in positions}
        upl = sum((p.unrealized(marks[p.instrument]) for p in positions), ZERO)
        initial = sum((p.margin for p in positions), ZERO) + self._order_margin(account)
        notional = sum((abs(p.size) * marks[p.instrument] for p in positions), ZERO)
        maintenance = notional * MAINTENANCE_MARGIN_RATE
        wallet = sum((account.balances[a].total * self._mark(a) for a in held), ZERO)
        margin_balance = wallet + upl
        return {
            "accountType": "UNIFIED",
            "accountIMRate": plain(ratio(initial, margin_balance)),
            "accountMMRate": plain(ratio(maintenance, margin_balance)),
            "accountLTV": "0",
            "totalEquity": plain(margin_balance),
            "totalWalletBalance": plain(wallet),
            "totalMarginBalance": plain(margin_balance),
            "totalAvailableBalance": plain(margin_balance - initial),
            "totalPerpUPL": plain(upl),
            "totalInitialMargin": plain(initial),
            "totalMaintenanceMargin": plain(maintenance),
        }

    @staticmethod
    def _order_margin(account: Account) -> Decimal:
        return sum(
            (
                o.locked
                for o in account.orders.values()
                if o.status is OrderStatus.OPEN and o.instrument.kind is Kind.LINEAR
            ),
            ZERO,
        )

    def _coin(self, account: Account, asset: str) -> Json:
        balance = account.balances.get(asset)
        free = balance.free if balance else ZERO
        total = balance.total if balance else ZERO
        spot_locked = sum(
            (
                o.locked
                for o in account.orders.values()
                if o.status is OrderStatus.OPEN
                and o.instrument.kind is Kind.SPOT
                and (o.instrument.quote if o.side is Side.BUY else o.instrument.base) == asset
            ),
            ZERO,
        )
        positions = list(account.positions.values()) if asset == QUOTE else []
        upl = sum((p.unrealized(self.ledger.last_price(p.instrument)) for p in positions), ZERO)
        equity = total + upl
        return {
            "coin": asset,
            "equity": plain(equity),
            "usdValue": plain(equity * self._mark(asset)),
            "walletBalance": plain(total),
            "availableToWithdraw": plain(free),
            "locked": plain(spot_locked),
            "borrowAmount": "0",
            "accruedInterest": "0",
            "totalOrderIM": plain(self._order_margin(account) if asset == QUOTE else ZERO),
            "totalPositionIM": plain(sum((p.margin for p in positions), ZERO)),
            "totalPositionMM": plain(
                sum((abs(p.size) * p.entry_price for p in positions), ZERO)
                * MAINTENANCE_MARGIN_RATE
            ),
            "unrealisedPnl": plain(upl),
            "cumRealisedPnl": plain(sum((p.realized_pnl for p in positions), ZERO)),
            "bonus": "0",
            "marginCollateral": True,
            "collateralSwitch": True,
            "spotHedgingQty": "0",
            "availableToBorrow": "",
        }
