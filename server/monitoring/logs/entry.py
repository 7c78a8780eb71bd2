"""What a log entry is, and the words a client may use for its level and category."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum

from server.errors import InvalidArgument


class Level(IntEnum):
    """Entry levels; Python's CRITICAL is stored as error. Filters ask for a minimum."""

    DEBUG = 10
    INFO = 20
    WARNING = 30
    ERROR = 40

    @property
    def word(self) -> str:
        return self.name.lower()

    @classmethod
    def of_record(cls, levelno: int) -> Level:
        if levelno >= cls.ERROR:
            return cls.ERROR
        if levelno >= cls.WARNING:
            return cls.WARNING
        if levelno >= cls.INFO:
            return cls.INFO
        return cls.DEBUG

    @classmethod
    def parse(cls, word: str, *, field: str = "level") -> Level:
        try:
            return cls[word.strip().upper()]
        except KeyError:
            choices = ", ".join(level.word for level in cls)
            raise InvalidArgument.field(field, f"must be one of {choices}") from None


class Category(StrEnum):
    """What an entry is about."""

    CONNECTION = "connection"  # a connection was created, changed, enabled, deleted
    TEST = "test"  # connection tests
    HEALTH = "health"  # health checks
    EXCHANGE = "exchange"  # exchange access: circuits, rate limits, calls
    ENGINE = "engine"  # engine lifecycle, cycles, market feeds
    ORDER = "order"  # live orders and their outcomes
    POSITION = "position"  # positions opened and closed
    API = "api"  # the RPC boundary
    AUTH = "auth"  # tokens
    SYSTEM = "system"  # the process: start, stop, storage, anything else

    @classmethod
    def parse(cls, word: str, *, field: str = "category") -> Category:
        try:
            return cls(word.strip().lower())
        except ValueError:
            choices = ", ".join(category.value for category in cls)
            raise InvalidArgument.field(field, f"must be one of {choices}") from None


# The category of a record whose module did not say, by logger name (longest prefix wins).
CATEGORY_OF_LOGGER: Mapping[str, Category] = {
    "cts.connections": Category.CONNECTION,
    "cts.tests": Category.TEST,
    "cts.health": Category.HEALTH,
    "cts.exchange": Category.EXCHANGE,
    "cts.engine": Category.ENGINE,
    "cts.engine.live": Category.ORDER,
    "cts.engine.store": Category.POSITION,
    "cts.rpc": Category.API,
    "cts.access": Category.AUTH,
    "ccxt": Category.EXCHANGE,
}


def category_of_logger(name: str) -> Category:
    best, found = -1, Category.SYSTEM
    for prefix, category in CATEGORY_OF_LOGGER.items():
        if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > best:
            best, found = len(prefix), category
    return found


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One entry. ``id`` orders entries (it grows across restarts); 0 until it is assigned."""

    time: datetime
    level: Level
    category: Category
    message: str
    logger: str = "cts"
    connection_id: str | None = None
    stack: str | None = None
    context: Mapping[str, str] = field(default_factory=dict)
    id: int = 0
