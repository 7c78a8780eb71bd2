"""OKX's swap positions."""

from __future__ import annotations

from typing import Any

from server.simulator.dialects.common import key_number, liquidation_price, optional, plain, ratio
from server.simulator.dialects.okx.core import OkxCore
from server.simulator.dialects.okx.errors import OkxError
from server.simulator.dialects.okx.wire import INST_TYPE_OF, MAINTENANCE_MARGIN_RATE, Json, Params
from server.simulator.instruments import QUOTE
from server.simulator.ledger import Account, Position


class OkxPositions(OkxCore):
    # -- positions ----------------------------------------------------------------------------

    def account_positions(self, account: Account, params: Params) -> list[Any]:
        """GET /api/v5/account/positions: open swap positions (``instId`` up to 10, commas)."""
        kind = params.inst_type(required=False)
        inst_ids = (params.text("instId") or "").split(",") if "instId" in params else []
        if len(inst_ids) > 10:
            raise OkxError("51000", "Parameter instId error")
        for inst_id in inst_ids:
            self._instrument(inst_id)
        positions = [
            p
            for p in self.ledger.positions(account)
            if (kind == "" or p.instrument.kind is kind)
            and (not inst_ids or self.inst_id(p.instrument) in inst_ids)
        ]
        return [self._position_view(account, p) for p in positions]

    def _position_view(self, account: Account, position: Position) -> Json:
        instrument = position.instrument
        mark = self.ledger.last_price(instrument)
        contracts = self.size(instrument, position.size)
        notional = abs(position.size) * mark
        upl = position.unrealized(mark)
        margin = position.margin
        isolated = account.margin_mode == "isolated"
        maintenance = notional * MAINTENANCE_MARGIN_RATE
        created = str(position.updated_ms or self._started_ms)
        return {
            "adl": "1",
            "availPos": plain(abs(contracts)) if isolated else "",
            "avgPx": plain(position.entry_price),
            "baseBal": "",
            "baseBorrowed": "",
            "baseInterest": "",
            "bePx": plain(position.entry_price),
            "bizRefId": "",
            "bizRefType": "",
            "cTime": created,
            "ccy": QUOTE,
            "clSpotInUseAmt": "",
            "closeOrderAlgo": [],
            "deltaBS": "",
            "deltaPA": "",
            "fee": "0",
            "fundingFee": "0",
            "gammaBS": "",
            "gammaPA": "",
            "idxPx": plain(mark),
            "imr": "" if isolated else plain(margin),
            "instId": self.inst_id(instrument),
            "instType": INST_TYPE_OF[instrument.kind],
            "interest": "",
            "last": plain(mark),
            "lever": str(account.leverage),
            "liab": "",
            "liabCcy": "",
            "liqPenalty": "0",
            "liqPx": optional(liquidation_price(position, MAINTENANCE_MARGIN_RATE)),
            "margin": plain(margin) if isolated else "",
            "markPx": plain(mark),
            "maxSpotInUseAmt": "",
            "mgnMode": account.margin_mode,
            "mgnRatio": plain(ratio(margin + upl, maintenance)) if maintenance else "",
            "mmr": plain(maintenance),
            "notionalUsd": plain(notional),
            "optVal": "",
            "pendingCloseOrdLiabVal": "",
            "pnl": plain(position.realized_pnl),
            "pos": plain(contracts),
            "posCcy": "",
            "posId": str(key_number(instrument.symbol, 12)),
            "posSide": "net",
            "quoteBal": "",
            "quoteBorrowed": "",
            "quoteInterest": "",
            "realizedPnl": plain(position.realized_pnl),
            "spotInUseAmt": "",
            "spotInUseCcy": "",
            "thetaBS": "",
            "thetaPA": "",
            "tradeId": "",
            "uTime": created,
            "upl": plain(upl),
            "uplLastPx": plain(upl),
            "uplRatio": plain(ratio(upl, margin)) if margin else "0",
            "uplRatioLastPx": plain(ratio(upl, margin)) if margin else "0",
            "usdPx": "",
            "vegaBS": "",
            "vegaPA": "",
        }
