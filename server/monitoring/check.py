"""One check's outcome: pass, warn or fail, with what it found in words."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class CheckStatus(StrEnum):
    PASS = "pass"
    WARN = "warn"  # works, but something deserves a look
    FAIL = "fail"  # needs the operator before CTS can be trusted


_RANK = {CheckStatus.PASS: 0, CheckStatus.WARN: 1, CheckStatus.FAIL: 2}


def worst(statuses: Iterable[CheckStatus]) -> CheckStatus:
    """Fail if any failed, else warn if any warned, else pass (also for none)."""
    return max(statuses, key=_RANK.__getitem__, default=CheckStatus.PASS)


@dataclass(frozen=True, slots=True)
class Finding:
    """What a check found, before it is timed and named."""

    status: CheckStatus
    detail: str

    @classmethod
    def passed(cls, detail: str) -> Finding:
        return cls(CheckStatus.PASS, detail)

    @classmethod
    def warned(cls, detail: str) -> Finding:
        return cls(CheckStatus.WARN, detail)

    @classmethod
    def failed(cls, detail: str) -> Finding:
        return cls(CheckStatus.FAIL, detail)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check as reported: its name, status, what it found (in words, never a secret) and
    how long it took."""

    name: str
    status: CheckStatus
    detail: str
    duration_ms: int
