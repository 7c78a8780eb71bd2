"""Bybit's linear positions."""

from __future__ import annotations

from server.simulator.dialects.bybit.core import BybitCore
from server.simulator.dialects.bybit.errors import PERMISSION_DENIED, BybitError, params_error
from server.simulator.dialects.bybit.wire import MAINTENANCE_MARGIN_RATE, Json, Params
from server.simulator.dialects.common import liquidation_price, optional, plain
from server.simulator.ledger import ZERO, Account, Position


class BybitPositions(BybitCore):
    # -- positions ----------------------------------------------------------------------------

    def position_list(self, account: Account, params: Params) -> Json:
        """GET /v5/position/list (linear): open positions, or one symbol's even when flat."""
        category = params.text("category")
        if category not in ("linear", "inverse", "option"):
            raise params_error("Illegal category")
        if not self._has_scope(params):
            raise params_error(
                "Missing some parameters that must be filled in, symbol or settleCoin"
            )
        symbol = params.text("symbol")
        kind = params.kind()
        if symbol is not None:
            instrument = self._instrument(kind, symbol)
            self.ledger.match(account)
            found = account.positions.get(instrument.symbol) or Position(instrument)
            positions = [found]
        else:
            listed = self._listed(kind, params) if kind is not None else []
            positions = [p for p in self.ledger.positions(account) if p.instrument in listed]
        limit = params.limit(20, 200)
        return {
            "category": category,
            "list": [self._position_view(account, p) for p in positions[:limit]],
            "nextPageCursor": "",
        }

    def set_leverage(self, account: Account, params: Params) -> Json:
        """POST /v5/position/set-leverage (linear, one-way mode: ``buyLeverage`` =
        ``sellLeverage``). The ledger keeps one leverage per account, in whole numbers: this
        sets it. The leverage already set is refused with 110043, as Bybit refuses it."""
        if not account.permissions.derivatives:
            raise BybitError(10005, PERMISSION_DENIED)
        if params.text("category") not in ("linear", "inverse"):
            raise params_error("Illegal category")
        instrument = self._instrument(params.kind(), params.required("symbol"))
        buy, sell = params.decimal("buyLeverage"), params.decimal("sellLeverage")
        if buy is None:
            raise params.missing("buyLeverage")
        if sell is None:
            raise params.missing("sellLeverage")
        if buy != sell:
            raise params_error("buyLeverage must equal sellLeverage in one-way mode")
        maximum = instrument.max_leverage
        if buy != buy.to_integral_value() or not 1 <= buy <= maximum:
            raise params_error(f"leverage invalid: a whole number from 1 to {maximum}")
        if int(buy) == account.leverage:
            raise BybitError(110043, "Set leverage not modified")
        account.leverage = int(buy)
        return {}

    def _position_view(self, account: Account, position: Position) -> Json:
        instrument = position.instrument
        mark = self.ledger.last_price(instrument)
        size = abs(position.size)
        side = "Buy" if position.size > 0 else "Sell" if position.size < 0 else ""
        entry = position.entry_price
        return {
            "positionIdx": 0,
            "riskId": 1,
            "riskLimitValue": "2000000",
            "symbol": instrument.plain_id,
            "side": side,
            "size": plain(size),
            "avgPrice": plain(entry),
            "positionValue": plain(size * entry),
            "tradeMode": 0,
            "positionStatus": "Normal",
            "autoAddMargin": 0,
            "adlRankIndicator": 2 if size else 0,
            "leverage": str(account.leverage),
            "positionBalance": plain(position.margin),
            "markPrice": plain(mark),
            "liqPrice": optional(liquidation_price(position, MAINTENANCE_MARGIN_RATE)),
            "bustPrice": optional(liquidation_price(position, ZERO)),
            "positionIM": plain(position.margin),
            "positionMM": plain(size * mark * MAINTENANCE_MARGIN_RATE),
            "tpslMode": "Full",
            "takeProfit": "0",
            "stopLoss": "0",
            "trailingStop": "0",
            "unrealisedPnl": plain(position.unrealized(mark)),
            "curRealisedPnl": plain(position.realized_pnl),
            "cumRealisedPnl": plain(position.realized_pnl),
            "sessionAvgPrice": "",
            "isReduceOnly": False,
            "mmrSysUpdatedTime": "",
            "leverageSysUpdatedTime": "",
            "seq": position.updated_ms,
            "createdTime": str(position.updated_ms or self._started_ms),
            "updatedTime": str(position.updated_ms or self._started_ms),
        }
