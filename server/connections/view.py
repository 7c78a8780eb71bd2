"""What the rest of CTS sees of a connection: an immutable view without credentials."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from server.connections.health import ConnectionHealth
from server.connections.model import ConnectionRecord
from server.exchange.model import KeyPermissions


@dataclass(frozen=True, slots=True)
class ConnectionView:
    """A connection as of one committed state. Credentials are reduced to a key hint."""

    id: uuid.UUID
    name: str
    exchange: str
    api_type: str
    connection_method: str
    authentication_type: str
    margin_type: str
    position_mode: str
    volume_factor: Decimal
    leverage: int
    max_position_notional: Decimal
    max_total_notional: Decimal
    preset_type: str
    is_testnet: bool
    is_enabled: bool
    is_active: bool
    is_live_trade: bool
    is_predefined: bool
    api_key_hint: str
    has_credentials: bool
    has_passphrase: bool
    created_at: datetime
    updated_at: datetime
    is_simulated: bool = False
    last_test_status: str | None = None
    last_test_balance: Decimal | None = None
    last_test_log: tuple[str, ...] = ()
    last_test_at: datetime | None = None
    last_test_duration_ms: int | None = None
    capabilities: KeyPermissions | None = None
    # Runtime state, not stored: carried from view to view by the read model.
    health: ConnectionHealth | None = None

    @classmethod
    def of(
        cls, record: ConnectionRecord, *, health: ConnectionHealth | None = None
    ) -> ConnectionView:
        capabilities = record.api_capabilities
        return cls(
            id=record.id,
            name=record.name,
            exchange=record.exchange,
            api_type=record.api_type,
            connection_method=record.connection_method,
            authentication_type=record.authentication_type,
            margin_type=record.margin_type,
            position_mode=record.position_mode,
            volume_factor=record.volume_factor,
            leverage=record.leverage,
            max_position_notional=record.max_position_notional,
            max_total_notional=record.max_total_notional,
            preset_type=record.preset_type,
            is_testnet=record.is_testnet,
            is_enabled=record.is_enabled,
            is_active=record.is_active,
            is_live_trade=record.is_live_trade,
            is_predefined=record.is_predefined,
            api_key_hint=record.api_key_hint,
            has_credentials=record.api_key_sealed is not None
            and record.api_secret_sealed is not None,
            has_passphrase=record.api_passphrase_sealed is not None,
            created_at=record.created_at,
            updated_at=record.updated_at,
            is_simulated=record.is_simulated,
            last_test_status=record.last_test_status,
            last_test_balance=record.last_test_balance,
            last_test_log=tuple(record.last_test_log or ()),
            last_test_at=record.last_test_at,
            last_test_duration_ms=record.last_test_duration_ms,
            capabilities=KeyPermissions(**capabilities) if capabilities else None,
            health=health,
        )


@dataclass(frozen=True, slots=True)
class ConnectionFilter:
    """Which connections a list or a watch is about; ``None`` means "any"."""

    exchange: str | None = None
    api_type: str | None = None
    enabled: bool | None = None
    active: bool | None = None

    def matches(self, view: ConnectionView) -> bool:
        return (
            (self.exchange is None or view.exchange == self.exchange)
            and (self.api_type is None or view.api_type == self.api_type)
            and (self.enabled is None or view.is_enabled == self.enabled)
            and (self.active is None or view.is_active == self.active)
        )
