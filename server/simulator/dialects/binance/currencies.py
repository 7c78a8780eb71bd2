"""Binance's wallet listings that ccxt's default ``load_markets`` asks for with keys: coins
(``/sapi/v1/capital/config/getall``) and margin pairs. The simulator has no deposits,
withdrawals or margin trading: coins say so, and the margin pair lists are empty."""

from __future__ import annotations

from server.simulator.dialects.binance.core import BinanceCore
from server.simulator.dialects.binance.wire import Call, Json, fmt
from server.simulator.instruments import QUOTE
from server.simulator.ledger import ZERO, Balance


class BinanceCurrencies(BinanceCore):
    def capital_config(self, call: Call) -> list[Json]:
        """GET /sapi/v1/capital/config/getall: every asset the markets use, with the account's
        balance and one network that neither deposits nor withdraws."""
        account = call.user
        assets = sorted({QUOTE, *(i.base for i in self.ledger.instruments)})
        return [self._coin_row(asset, account.balance(asset)) for asset in assets]

    @staticmethod
    def _coin_row(asset: str, balance: Balance) -> Json:
        network = {
            "network": asset,
            "coin": asset,
            "withdrawIntegerMultiple": "0.00000001",
            "isDefault": True,
            "depositEnable": False,
            "withdrawEnable": False,
            "depositDesc": "The exchange simulator takes no deposits.",
            "withdrawDesc": "The exchange simulator makes no withdrawals.",
            "specialTips": "",
            "name": asset,
            "resetAddressStatus": False,
            "addressRegex": "",
            "memoRegex": "",
            "withdrawFee": "0",
            "withdrawMin": "0",
            "withdrawMax": "0",
            "minConfirm": 0,
            "unLockConfirm": 0,
            "sameAddress": False,
            "estimatedArrivalTime": 0,
            "busy": False,
        }
        return {
            "coin": asset,
            "depositAllEnable": False,
            "withdrawAllEnable": False,
            "name": asset,
            "free": fmt(balance.free),
            "locked": fmt(balance.locked),
            "freeze": fmt(ZERO),
            "withdrawing": fmt(ZERO),
            "ipoing": fmt(ZERO),
            "ipoable": fmt(ZERO),
            "storage": fmt(ZERO),
            "isLegalMoney": False,
            "trading": True,
            "networkList": [network],
        }

    def margin_pairs(self, _call: Call) -> list[Json]:
        """GET /sapi/v1/margin/allPairs, /sapi/v1/margin/isolated/allPairs: none."""
        return []
