"""Bybit's coin list (``/v5/asset/coin/query-info``), which ccxt's default ``load_markets``
asks for with keys. The simulator has no deposits or withdrawals: every chain says so."""

from __future__ import annotations

from server.simulator.dialects.bybit.core import BybitCore
from server.simulator.dialects.bybit.wire import Json, Params
from server.simulator.instruments import QUOTE
from server.simulator.ledger import Account


class BybitCurrencies(BybitCore):
    def coin_info(self, _account: Account, params: Params) -> Json:
        """GET /v5/asset/coin/query-info (optional ``coin``)."""
        wanted = params.text("coin")
        assets = sorted({QUOTE, *(i.base for i in self.ledger.instruments)})
        return {"rows": [self._coin_row(a) for a in assets if wanted is None or a == wanted]}

    @staticmethod
    def _coin_row(asset: str) -> Json:
        chain = {
            "chainType": asset,
            "confirmation": "0",
            "withdrawFee": "0",
            "depositMin": "0",
            "withdrawMin": "0",
            "chain": asset,
            "chainDeposit": "0",
            "chainWithdraw": "0",
            "minAccuracy": "8",
            "withdrawPercentageFee": "0",
            "contractAddress": "",
            "safeConfirmNumber": "0",
        }
        return {"name": asset, "coin": asset, "remainAmount": "0", "chains": [chain]}
