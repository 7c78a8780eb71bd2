"""Every recorded shape, in one list (the test's parameters, the README's source)."""

from __future__ import annotations

from tests.simulator.recorded import binance, bingx, bybit, kraken, okx
from tests.simulator.recorded.shapes import Shape

SHAPES: list[Shape] = [*binance.SHAPES, *bybit.SHAPES, *kraken.SHAPES, *bingx.SHAPES, *okx.SHAPES]
