"""ccxt exchange classes that CTS owns, for exchanges ccxt does not have.

Each is a subclass of ccxt's async ``Exchange`` base class, so that precision, rounding, error
mapping and the unified structures are ccxt's own; ``create_ccxt`` looks a class id up here
before it looks in ccxt.
"""

from __future__ import annotations

from typing import Any

from server.exchange.venues.orangex import orangex
from server.exchange.venues.pionex import pionex

#: ccxt class id → class
CCXT_CLASSES: dict[str, Any] = {"pionex": pionex, "orangex": orangex}
