"""Shared steps of the margin tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from server.simulator.server import Simulator

SYMBOL = "BTC/USDT"


async def resting_buys(
    sim: Simulator, margin: Any, spot: Any, amount: float, client_order_id: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A resting limit buy of ``amount`` BTC through a margin connection (with
    ``client_order_id``) and one through a spot connection of the same account, 20 % under the
    price."""
    await margin.load_markets()
    limit = float((sim.prices.price("BTC") * Decimal("0.8")).quantize(Decimal("0.1")))
    on_margin = await margin.create_order(
        SYMBOL, "limit", "buy", amount, limit, {"clientOrderId": client_order_id}
    )
    on_spot = await spot.create_order(SYMBOL, "limit", "buy", amount, limit)
    return on_margin, on_spot
