"""One-time steps (such as seeding predefined rows) record here that they ran."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, Session, SQLModel

from server.storage.types import UTCDateTime, utc_now


class SeedMark(SQLModel, table=True):
    """Records that a one-time seeding step ran, so that it never runs again."""

    __tablename__ = "seed_marks"

    name: str = Field(primary_key=True, max_length=64)
    applied_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


def claim_seed(session: Session, name: str) -> bool:
    """True exactly once per ``name`` and database: the caller should then seed.

    The mark is added in the caller's unit of work, so that seeding and marking commit together.
    """
    if session.get(SeedMark, name) is not None:
        return False
    session.add(SeedMark(name=name))
    session.flush()
    return True
