"""The master-key canary: a known value sealed with the master key when the database is first
prepared. Opening it proves that the key on disk is the key the stored credentials were sealed
with (a replaced key file would otherwise only show when a connection is used)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, Session, SQLModel

from server.storage.types import UTCDateTime, utc_now
from server.vault.cipher import CredentialCipher, SealedValueError

MASTER_KEY_CANARY = "master_key"
_OWNER = "canary:master_key"
_VALUE = "cts master key canary"


class CanaryRecord(SQLModel, table=True):
    __tablename__ = "canaries"

    name: str = Field(primary_key=True, max_length=32)
    sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


def ensure_canary(session: Session, cipher: CredentialCipher) -> None:
    """Seal the canary once per database (in the caller's unit of work)."""
    if session.get(CanaryRecord, MASTER_KEY_CANARY) is None:
        session.add(CanaryRecord(name=MASTER_KEY_CANARY, sealed=cipher.seal(_VALUE, owner=_OWNER)))


def canary_opens(session: Session, cipher: CredentialCipher) -> bool | None:
    """True when the stored canary opens with ``cipher``'s key, False when it does not, None
    when no canary is stored."""
    record = session.get(CanaryRecord, MASTER_KEY_CANARY)
    if record is None:
        return None
    try:
        return cipher.open(record.sealed, owner=_OWNER) == _VALUE
    except SealedValueError:
        return False


def reseal_canary(session: Session, old: CredentialCipher, new: CredentialCipher) -> None:
    """Seal the canary with ``new`` (in the caller's unit of work), after proving that ``old``
    opens it; a database without a canary gets one. It then marks which key the database is
    sealed with."""
    record = session.get(CanaryRecord, MASTER_KEY_CANARY)
    if record is None:
        session.add(CanaryRecord(name=MASTER_KEY_CANARY, sealed=new.seal(_VALUE, owner=_OWNER)))
        return
    if old.open(record.sealed, owner=_OWNER) != _VALUE:
        raise SealedValueError("the stored canary holds an unexpected value")
    record.sealed = new.seal(_VALUE, owner=_OWNER)
    session.add(record)
