"""Roles a token can carry, from least to most power: each role may do what the one before it
may, and more."""

from __future__ import annotations

from enum import IntEnum

from server.errors import InvalidArgument


class Role(IntEnum):
    VIEWER = 1  # reads and watches
    OPERATOR = 2  # also tests connections, commands engines, changes trading settings
    ADMIN = 3  # also creates and deletes connections, credentials, live trading, the audit trail

    @property
    def word(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, word: str, *, field: str = "role") -> Role:
        try:
            return cls[word.strip().upper()]
        except KeyError:
            raise InvalidArgument.field(field, "must be viewer, operator or admin") from None

    def allows(self, needed: Role) -> bool:
        return self >= needed
