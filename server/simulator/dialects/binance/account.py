"""Binance's accounts: spot balances, the cross margin account, key restrictions and the
futures wallet."""

from __future__ import annotations

from decimal import Decimal

from server.simulator.dialects.binance.margin import NO_DEBT_MARGIN_LEVEL
from server.simulator.dialects.binance.positions import BinancePositions
from server.simulator.dialects.binance.wire import Call, Json, fmt
from server.simulator.dialects.common import key_number, unit_value
from server.simulator.instruments import QUOTE
from server.simulator.ledger import ZERO, Account


class BinanceAccount(BinancePositions):
    # -- accounts -----------------------------------------------------------------------------

    def spot_account(self, call: Call) -> Json:
        """GET /api/v3/account: spot balances and the account's trading flags."""
        account = call.user
        omit_zero = call.flag("omitZeroBalances")
        balances = []
        for asset in self._spot_assets(account):
            balance = account.balance(asset)
            if omit_zero and balance.total == 0:
                continue
            balances.append(
                {"asset": asset, "free": fmt(balance.free), "locked": fmt(balance.locked)}
            )
        return {
            "makerCommission": 10,
            "takerCommission": 10,
            "buyerCommission": 0,
            "sellerCommission": 0,
            "commissionRates": {
                "maker": "0.00100000",
                "taker": "0.00100000",
                "buyer": "0.00000000",
                "seller": "0.00000000",
            },
            "canTrade": account.permissions.spot,
            "canWithdraw": account.permissions.withdraw,
            "canDeposit": True,
            "brokered": False,
            "requireSelfTradePrevention": False,
            "preventSor": False,
            "updateTime": self.ledger.now_ms(),
            "accountType": "SPOT",
            "balances": balances,
            "permissions": ["SPOT"],
            "uid": key_uid(account.api_key),
        }

    def margin_account(self, call: Call) -> Json:
        """GET /sapi/v1/margin/account: the cross margin account, which is the key's wallet in
        the ledger; nothing is ever borrowed (see margin.py)."""
        account = call.user
        assets = []
        value = Decimal(0)  # in USDT
        for asset in self._spot_assets(account):
            balance = account.balance(asset)
            value += balance.total * self._usdt_value(asset)
            assets.append(
                {
                    "asset": asset,
                    "borrowed": fmt(ZERO),
                    "free": fmt(balance.free),
                    "interest": fmt(ZERO),
                    "locked": fmt(balance.locked),
                    "netAsset": fmt(balance.total),
                }
            )
        in_btc = value / self._usdt_value("BTC")
        return {
            "created": True,
            "borrowEnabled": account.permissions.spot,
            "marginLevel": NO_DEBT_MARGIN_LEVEL,
            "collateralMarginLevel": NO_DEBT_MARGIN_LEVEL,
            "totalAssetOfBtc": fmt(in_btc),
            "totalLiabilityOfBtc": fmt(ZERO),
            "totalNetAssetOfBtc": fmt(in_btc),
            "TotalCollateralValueInUSDT": fmt(value),
            "totalOpenOrderLossInUSDT": fmt(ZERO),
            "tradeEnabled": account.permissions.spot,
            "transferInEnabled": True,
            "transferOutEnabled": account.permissions.withdraw,
            "accountType": "MARGIN_1",
            "userAssets": assets,
        }

    def _spot_assets(self, account: Account) -> list[str]:
        """The assets a spot or margin account lists: every market's, and any it holds."""
        return sorted({*account.balances, QUOTE, *(i.base for i in self.ledger.instruments)})

    def _usdt_value(self, asset: str) -> Decimal:
        return unit_value(self.simulator.prices, asset, (QUOTE, "USDC"))

    def api_restrictions(self, call: Call) -> Json:
        """GET /sapi/v1/account/apiRestrictions: the key's permissions."""
        account = call.user
        permissions = account.permissions
        return {
            "ipRestrict": False,
            "createTime": self._key_created.get(account.api_key, self.now_ms()),
            "enableReading": permissions.read,
            "enableSpotAndMarginTrading": permissions.spot,
            "enableWithdrawals": permissions.withdraw,
            "enableInternalTransfer": False,
            "enableMargin": False,
            "enableFutures": permissions.derivatives,
            "permitsUniversalTransfer": False,
            "enableVanillaOptions": False,
            "enableFixApiTrade": False,
            "enableFixReadOnly": False,
            "enablePortfolioMarginTrading": False,
        }

    def futures_account(self, call: Call) -> Json:
        """GET /fapi/v2/account, /fapi/v3/account: wallet, margins and positions (USDT)."""
        account = call.user
        assets = [self._futures_asset(account, asset) for asset in self._wallet_assets(account)]
        usdt = next(a for a in assets if a["asset"] == QUOTE)
        positions = self.ledger.positions(account)
        return {
            "totalInitialMargin": usdt["initialMargin"],
            "totalMaintMargin": usdt["maintMargin"],
            "totalWalletBalance": usdt["walletBalance"],
            "totalUnrealizedProfit": usdt["unrealizedProfit"],
            "totalMarginBalance": usdt["marginBalance"],
            "totalPositionInitialMargin": usdt["positionInitialMargin"],
            "totalOpenOrderInitialMargin": usdt["openOrderInitialMargin"],
            "totalCrossWalletBalance": usdt["crossWalletBalance"],
            "totalCrossUnPnl": usdt["crossUnPnl"],
            "availableBalance": usdt["availableBalance"],
            "maxWithdrawAmount": usdt["maxWithdrawAmount"],
            "assets": assets,
            "positions": [self._account_position(account, p) for p in positions],
        }

    def futures_balance(self, call: Call) -> list[Json]:
        """GET /fapi/v2/balance, /fapi/v3/balance."""
        account = call.user
        balances = []
        for asset in self._wallet_assets(account):
            entry = self._futures_asset(account, asset)
            balances.append(
                {
                    "accountAlias": f"Sim{key_uid(account.api_key) % 10**6}",
                    "asset": asset,
                    "balance": entry["walletBalance"],
                    "crossWalletBalance": entry["crossWalletBalance"],
                    "crossUnPnl": entry["crossUnPnl"],
                    "availableBalance": entry["availableBalance"],
                    "maxWithdrawAmount": entry["maxWithdrawAmount"],
                    "marginAvailable": asset == QUOTE,
                    "updateTime": entry["updateTime"],
                }
            )
        return balances

    @staticmethod
    def _wallet_assets(account: Account) -> list[str]:
        return sorted({QUOTE, *(a for a, b in account.balances.items() if b.total != 0)})

    def _futures_asset(self, account: Account, asset: str) -> Json:
        """One wallet asset as /fapi/v3/account shows it. The wallet is the ledger's (shared
        with spot); ``initialMargin`` is what it has locked, unrealised PnL counts for USDT."""
        balance = account.balance(asset)
        positions = self.ledger.positions(account) if asset == QUOTE else []
        unrealized = sum((self._unrealized(p) for p in positions), ZERO)
        position_margin = sum((p.margin for p in positions), ZERO)
        maintenance = sum((self._maintenance(p) for p in positions), ZERO)
        available = balance.free + unrealized
        return {
            "asset": asset,
            "walletBalance": fmt(balance.total),
            "unrealizedProfit": fmt(unrealized),
            "marginBalance": fmt(balance.total + unrealized),
            "maintMargin": fmt(maintenance),
            "initialMargin": fmt(balance.locked),
            "positionInitialMargin": fmt(position_margin),
            "openOrderInitialMargin": fmt(balance.locked - position_margin),
            "crossWalletBalance": fmt(balance.total),
            "crossUnPnl": fmt(unrealized),
            "availableBalance": fmt(available),
            "maxWithdrawAmount": fmt(max(ZERO, min(available, balance.free))),
            "updateTime": self.ledger.now_ms(),
        }


def key_uid(api_key: str) -> int:
    return key_number(api_key, 8)
