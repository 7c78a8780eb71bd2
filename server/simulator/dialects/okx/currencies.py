"""OKX's currency list (``/api/v5/asset/currencies``), which ccxt's default ``load_markets``
asks for with keys. The simulator has no deposits or withdrawals: every chain says so."""

from __future__ import annotations

from typing import Any

from server.simulator.dialects.okx.core import OkxCore
from server.simulator.dialects.okx.wire import Json, Params
from server.simulator.instruments import QUOTE
from server.simulator.ledger import Account


class OkxCurrencies(OkxCore):
    def asset_currencies(self, _account: Account, params: Params) -> list[Any]:
        """GET /api/v5/asset/currencies (optional ``ccy``, comma-separated)."""
        wanted = params.text("ccy")
        assets = sorted({QUOTE, *(i.base for i in self.ledger.instruments)})
        return [self._currency(a) for a in assets if wanted is None or a in wanted.split(",")]

    @staticmethod
    def _currency(asset: str) -> Json:
        return {
            "ccy": asset,
            "name": asset,
            "logoLink": "",
            "chain": f"{asset}-{asset}",
            "ctAddr": "",
            "canDep": False,
            "canWd": False,
            "canInternal": False,
            "depEstOpenTime": "",
            "wdEstOpenTime": "",
            "minDep": "0",
            "minDepArrivalConfirm": "0",
            "minWd": "0",
            "minFee": "0",
            "maxFee": "0",
            "minInternal": "0",
            "maxWd": "0",
            "wdTickSz": "8",
            "wdQuota": "0",
            "usedWdQuota": "0",
            "fee": "0",
            "mainNet": True,
            "needTag": False,
            "minWdUnlockConfirm": "0",
            "burningFeeRate": "",
            "depQuotaFixed": "",
            "usedDepQuotaFixed": "",
            "depQuoteDailyLayer2": "",
        }
