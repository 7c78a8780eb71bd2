"""The predefined connections of the original system, seeded once per database."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from server.connections.draft import ConnectionDraft, key_hint, record_fields
from server.connections.model import ConnectionRecord
from server.connections.repository import ConnectionRepository
from server.connections.view import ConnectionView
from server.connections.vocabulary import ApiType, Exchange
from server.storage.seed_marks import claim_seed

SEED_NAME = "predefined_connections_v1"

# (predefined key, display name, exchange, api type). Seeded without credentials, disabled.
PREDEFINED = (
    ("bybit", "Bybit", Exchange.BYBIT, ApiType.PERPETUAL_FUTURES),
    ("bingx", "BingX", Exchange.BINGX, ApiType.PERPETUAL_FUTURES),
    ("orangex", "OrangeX", Exchange.ORANGEX, ApiType.PERPETUAL_FUTURES),
    ("pionex", "Pionex", Exchange.PIONEX, ApiType.PERPETUAL_FUTURES),
)


def seed_predefined(session: Session) -> list[ConnectionView]:
    """Add the predefined connections the first time this runs on a database, never again.

    A predefined connection that the user deletes stays deleted: the seed mark, not the rows,
    records that seeding happened.
    """
    if not claim_seed(session, SEED_NAME):
        return []
    repo = ConnectionRepository(session)
    seeded = []
    for key, name, exchange, api_type in PREDEFINED:
        if repo.id_with_name(name) is not None:
            continue
        draft = ConnectionDraft(name=name, exchange=exchange, api_type=api_type)
        record = ConnectionRecord(**record_fields(draft), is_predefined=True, predefined_key=key)
        repo.add(record)
        seeded.append(ConnectionView.of(record))
    return seeded


DEMO_SEED_NAME = "demo_connection_v1"


def seed_demo(session: Session, seal: Callable[[str, str], bytes]) -> ConnectionView | None:
    """Create the demo connection on the exchange simulator, once per database.

    ``seal(owner, value)`` encrypts a credential for its owner (see ``server.vault``).
    """
    from server.simulator.demo import DEMO_CONNECTION_ACCOUNT, DEMO_CONNECTION_NAME

    if not claim_seed(session, DEMO_SEED_NAME):
        return None
    repo = ConnectionRepository(session)
    if repo.id_with_name(DEMO_CONNECTION_NAME) is not None:
        return None
    account = DEMO_CONNECTION_ACCOUNT
    draft = ConnectionDraft(
        name=DEMO_CONNECTION_NAME,
        exchange=Exchange(account.exchange),
        api_type=ApiType.SPOT,
        is_simulated=True,
        is_enabled=True,
        is_active=True,
    )
    record = ConnectionRecord(**record_fields(draft))
    owner = f"connection:{record.id}"
    record.api_key_sealed = seal(f"{owner}:api_key", account.api_key)
    record.api_secret_sealed = seal(f"{owner}:api_secret", account.secret)
    record.api_key_hint = key_hint(account.api_key)
    repo.add(record)
    return ConnectionView.of(record)
