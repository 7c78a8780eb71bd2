"""Bearer tokens: creation, the admin token bootstrap, and verification with a short cache."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from server.access.model import ApiToken
from server.access.roles import Role
from server.errors import AlreadyExists, InvalidArgument, NotFound, Unauthenticated
from server.monitoring.logs.scrub import remember_secrets
from server.storage.database import Database
from server.storage.types import utc_now
from server.vault.master_key import write_private_file

TOKEN_PREFIX = "cts_"
ADMIN_TOKEN_NAME = "admin"
TOKEN_MAX_LENGTH = 512


@dataclass(frozen=True, slots=True)
class Principal:
    """Who made a request: the token's id, name, role and expiry."""

    token_id: uuid.UUID
    name: str
    role: Role = Role.VIEWER
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: uuid.UUID
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    role: Role
    expires_at: datetime | None


def new_token() -> str:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    remember_secrets(token)
    return token


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _insert(
    session: Session, name: str, token: str, role: Role, expires_at: datetime | None = None
) -> ApiToken:
    row = ApiToken(
        name=name,
        token_hash=hash_token(token),
        prefix=token[:8],
        role=role.word,
        expires_at=expires_at,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise AlreadyExists(
            f"a token named '{name}' already exists", reason="TOKEN_NAME_TAKEN"
        ) from None
    return row


def create_token(
    session: Session,
    name: str,
    role: Role = Role.VIEWER,
    *,
    expires_in: timedelta | None = None,
) -> tuple[str, TokenInfo]:
    """A new token named ``name`` with ``role``, valid for ``expires_in`` (forever when None);
    the plaintext is returned once and never stored."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidArgument.field("name", "1-100 characters")
    if expires_in is not None and expires_in <= timedelta(0):
        raise InvalidArgument.field("expires_in", "must be positive")
    token = new_token()
    expires_at = utc_now() + expires_in if expires_in is not None else None
    row = _insert(session, name, token, role, expires_at)
    return token, _info(row)


def list_tokens(session: Session) -> Sequence[TokenInfo]:
    rows = session.exec(select(ApiToken).order_by(col(ApiToken.created_at))).all()
    return [_info(r) for r in rows]


def revoke_token(session: Session, name: str) -> TokenInfo:
    row = session.exec(select(ApiToken).where(ApiToken.name == name)).first()
    if row is None:
        raise NotFound(f"no token named '{name}'", reason="TOKEN_NOT_FOUND")
    if row.revoked_at is None:
        row.revoked_at = utc_now()
        session.flush()
    return _info(row)


def ensure_admin_token(session: Session, configured: str | None, token_file: Path) -> str | None:
    """Make sure an admin token exists; returns the plaintext only when one was just generated.

    With ``configured`` (``CTS_ADMIN_TOKEN``), the admin token is that value (created or
    re-hashed to match). Otherwise, on first start, a token is generated and written to
    ``token_file`` with mode 0600; the caller prints it once.
    """
    admin = session.exec(select(ApiToken).where(ApiToken.name == ADMIN_TOKEN_NAME)).first()
    if configured is not None:
        if not configured or len(configured) > TOKEN_MAX_LENGTH:
            raise InvalidArgument.field("CTS_ADMIN_TOKEN", f"1-{TOKEN_MAX_LENGTH} characters")
        if admin is None:
            _insert(session, ADMIN_TOKEN_NAME, configured, Role.ADMIN)
        elif (
            not hmac.compare_digest(admin.token_hash, hash_token(configured))
            or admin.revoked_at
            or admin.role != Role.ADMIN.word
            or admin.expires_at is not None
        ):
            admin.token_hash = hash_token(configured)
            admin.prefix = configured[:8]
            admin.revoked_at = None
            admin.role = Role.ADMIN.word
            admin.expires_at = None
            session.flush()
        return None
    if admin is not None:
        return None
    token = new_token()
    _insert(session, ADMIN_TOKEN_NAME, token, Role.ADMIN)
    if token_file.exists():
        token_file.unlink()
    write_private_file(token_file, token + "\n")
    return token


def _info(row: ApiToken) -> TokenInfo:
    return TokenInfo(
        row.id,
        row.name,
        row.prefix,
        row.created_at,
        row.revoked_at,
        Role.parse(row.role),
        row.expires_at,
    )


def parse_duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``45m`` or ``90s`` as a duration (for ``--expires-in``)."""
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    text = text.strip().lower()
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit():
        raise InvalidArgument.field("expires_in", "must be a number and a unit: 30d, 12h, 45m, 90s")
    return timedelta(seconds=int(text[:-1]) * units[text[-1]])


class TokenVerifier:
    """Checks bearer tokens against storage, trusting a verified token for a few seconds."""

    def __init__(self, db: Database, *, cache_seconds: float = 5.0) -> None:
        self._db = db
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, Principal]] = {}

    async def verify(self, token: str) -> Principal:
        if not token or len(token) > TOKEN_MAX_LENGTH:
            raise Unauthenticated("invalid or revoked token", reason="TOKEN_INVALID")
        digest = hash_token(token)
        cached = self._cache.get(digest)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            return cached[1]

        def work(session: Session) -> Principal | None:
            row = session.exec(select(ApiToken).where(ApiToken.token_hash == digest)).first()
            if row is None or row.revoked_at is not None:
                return None
            return Principal(row.id, row.name, Role.parse(row.role), row.expires_at)

        principal = await self._db.read(work)
        if principal is None:
            self._cache.pop(digest, None)
            raise Unauthenticated("invalid or revoked token", reason="TOKEN_INVALID")
        trusted_until = now + self.cache_seconds
        if principal.expires_at is not None:
            left = (principal.expires_at - utc_now()).total_seconds()
            if left <= 0:
                self._cache.pop(digest, None)
                raise Unauthenticated("the token has expired", reason="TOKEN_EXPIRED")
            trusted_until = min(trusted_until, now + left)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (trusted_until, principal)
        remember_secrets(token)
        return principal
