"""Binance's USDⓈ-M positions: brackets, position risk and leverage."""

from __future__ import annotations

from decimal import Decimal

from server.simulator.dialects.binance.brackets import bracket_for, bracket_list, max_notional
from server.simulator.dialects.binance.core import BinanceCore
from server.simulator.dialects.binance.errors import BinanceError, missing
from server.simulator.dialects.binance.wire import Call, Json, fmt
from server.simulator.instruments import QUOTE
from server.simulator.ledger import ZERO, Account, Position


class BinancePositions(BinanceCore):
    # -- futures positions --------------------------------------------------------------------

    def leverage_brackets(self, call: Call) -> Json | list[Json]:
        """GET /fapi/v1/leverageBracket: notional brackets per market (one symbol: an object)."""
        entries = [
            {"symbol": i.plain_id, "notionalCoef": 1.0, "brackets": bracket_list(i)}
            for i in self._instruments(call)
        ]
        return entries[0] if call.text("symbol") else entries

    def position_risk_v3(self, call: Call) -> list[Json]:
        """GET /fapi/v3/positionRisk: the open positions (one-way mode, cross margin)."""
        account = call.user
        wanted = self._instrument(call) if call.text("symbol") else None
        return [
            self._position_risk(account, p)
            for p in self.ledger.positions(account)
            if wanted is None or p.instrument == wanted
        ]

    def position_risk_v2(self, call: Call) -> list[Json]:
        """GET /fapi/v2/positionRisk: every market, flat ones included, with leverage."""
        account = call.user
        held = {p.instrument: p for p in self.ledger.positions(account)}
        entries = []
        for instrument in self._instruments(call):
            position = held.get(instrument) or Position(instrument)
            entry = self._position_risk(account, position)
            entries.append(
                entry
                | {
                    "leverage": str(account.leverage),
                    "marginType": "cross",
                    "isAutoAddMargin": "false",
                    "maxNotionalValue": fmt(max_notional(instrument, account.leverage), 0),
                }
            )
        return entries

    def position_mode(self, _call: Call) -> Json:
        """GET /fapi/v1/positionSide/dual: always one-way mode."""
        return {"dualSidePosition": False}

    def set_leverage(self, call: Call) -> Json:
        """POST /fapi/v1/leverage. The ledger keeps one leverage per account: this sets it."""
        instrument = self._instrument(call)
        leverage = call.integer("leverage")
        if leverage is None:
            raise missing("leverage")
        if not 1 <= leverage <= instrument.max_leverage:
            raise BinanceError(-4028, f"Leverage {leverage} is not valid")
        call.user.leverage = leverage
        return {
            "leverage": leverage,
            "maxNotionalValue": fmt(max_notional(instrument, leverage), 0),
            "symbol": instrument.plain_id,
        }

    def symbol_config(self, call: Call) -> list[Json]:
        """GET /fapi/v1/symbolConfig: each market's margin type and leverage (the account's one
        leverage; cross margin)."""
        leverage = call.user.leverage
        return [
            {
                "symbol": instrument.plain_id,
                "marginType": "CROSSED",
                "isAutoAddMargin": "false",
                "leverage": leverage,
                "maxNotionalValue": fmt(max_notional(instrument, leverage), 0),
            }
            for instrument in self._instruments(call)
        ]

    def _unrealized(self, position: Position) -> Decimal:
        return position.unrealized(self.ledger.last_price(position.instrument))

    def _notional(self, position: Position) -> Decimal:
        return position.size * self.ledger.last_price(position.instrument)

    def _maintenance(self, position: Position) -> Decimal:
        notional = abs(self._notional(position))
        _, ratio, cum = bracket_for(notional)
        return notional * ratio - cum

    def _liquidation_price(self, account: Account, position: Position) -> Decimal:
        """Binance's cross-margin liquidation price of one position, the others held fixed."""
        if position.size == 0:
            return ZERO
        others = [p for p in self.ledger.positions(account) if p.instrument != position.instrument]
        wallet = account.balance(QUOTE).total + sum(
            (self._unrealized(p) - self._maintenance(p) for p in others), ZERO
        )
        side = 1 if position.size > 0 else -1
        size = abs(position.size)
        _, ratio, cum = bracket_for(abs(self._notional(position)))
        denominator = size * ratio - side * size
        if denominator == 0:
            return ZERO
        price = (wallet + cum - side * size * position.entry_price) / denominator
        return max(ZERO, price)

    def _position_risk(self, account: Account, position: Position) -> Json:
        instrument = position.instrument
        mark = self.ledger.last_price(instrument)
        order_margin = sum((o.locked for o in self.ledger.open_orders(account, instrument)), ZERO)
        return {
            "symbol": instrument.plain_id,
            "positionSide": "BOTH",
            "positionAmt": fmt(position.size, instrument.decimals(instrument.amount_step)),
            "entryPrice": fmt(position.entry_price),
            "breakEvenPrice": fmt(position.entry_price),
            "markPrice": fmt(mark),
            "unRealizedProfit": fmt(self._unrealized(position)),
            "liquidationPrice": fmt(self._liquidation_price(account, position)),
            "isolatedMargin": "0",
            "notional": fmt(self._notional(position)),
            "marginAsset": QUOTE,
            "isolatedWallet": "0",
            "initialMargin": fmt(position.margin + order_margin),
            "maintMargin": fmt(self._maintenance(position)),
            "positionInitialMargin": fmt(position.margin),
            "openOrderInitialMargin": fmt(order_margin),
            "adl": 1 if position.size else 0,
            "bidNotional": "0",
            "askNotional": "0",
            "updateTime": position.updated_ms,
        }

    def _account_position(self, account: Account, position: Position) -> Json:
        risk = self._position_risk(account, position)
        keys = ("symbol", "positionSide", "positionAmt", "isolatedMargin", "notional")
        return {key: risk[key] for key in keys} | {
            "unrealizedProfit": risk["unRealizedProfit"],
            "isolatedWallet": "0",
            "initialMargin": risk["initialMargin"],
            "maintMargin": risk["maintMargin"],
            "updateTime": risk["updateTime"],
        }
