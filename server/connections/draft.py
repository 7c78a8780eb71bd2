"""Validation of what clients send: the connection's settable fields and its credentials.

Field names are the wire names, so a violation names the field exactly as the client sent it.
Validation never echoes input values (credentials must not reach error messages).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from server.connections.vocabulary import (
    ApiType,
    AuthenticationType,
    ConnectionMethod,
    Exchange,
    MarginType,
    PositionMode,
    PresetType,
)
from server.errors import FieldViolation, InvalidArgument

NAME_MAX = 100
API_KEY_MAX = 256
API_SECRET_MAX = 4096  # RSA and Ed25519 private keys in PEM form are accepted as secrets
API_PASSPHRASE_MAX = 128

VolumeFactor = Annotated[Decimal, Field(gt=0, le=100, max_digits=20, decimal_places=8)]
Leverage = Annotated[int, Field(ge=1, le=125)]
# Live-trading limits, in the quote currency (e.g. USDT).
Notional = Annotated[Decimal, Field(gt=0, le=10**9, max_digits=20, decimal_places=8)]


def _visible(char: str) -> bool:
    """Not a space, a control, or a format mark (bidi overrides, zero-width joiners...)."""
    return unicodedata.category(char) not in {"Zs", "Zl", "Zp", "Cc", "Cf"}


def _no_control_characters(value: str, what: str) -> str:
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError(f"{what} must not contain control characters")
    return value


class TradingSettingsDraft(BaseModel):
    """The trading settings of a connection; also part of :class:`ConnectionDraft`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    margin_type: MarginType = MarginType.CROSS
    position_mode: PositionMode = PositionMode.ONE_WAY
    volume_factor: VolumeFactor = Decimal(1)
    leverage: Leverage = 1
    # Live trading never opens or adds to a position beyond these (quote currency).
    max_position_notional: Notional = Decimal(100)
    max_total_notional: Notional = Decimal(500)

    @model_validator(mode="after")
    def _position_within_total(self) -> TradingSettingsDraft:
        if self.max_position_notional > self.max_total_notional:
            raise ValueError("max_position_notional must not exceed max_total_notional")
        return self


class ConnectionDraft(TradingSettingsDraft):
    """Every field of a connection that a client may set, with defaults and limits."""

    name: str = Field(min_length=1, max_length=NAME_MAX)
    exchange: Exchange
    api_type: ApiType
    connection_method: ConnectionMethod = ConnectionMethod.LIBRARY
    authentication_type: AuthenticationType = AuthenticationType.API_KEY_SECRET
    preset_type: PresetType = PresetType.DEFAULT
    is_testnet: bool = False
    is_enabled: bool = False
    is_active: bool = False
    is_simulated: bool = False

    @field_validator("name", mode="before")
    @classmethod
    def _strip_name(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        name = _no_control_characters(value.strip(), "name")
        if name and not any(_visible(ch) for ch in name):
            raise ValueError("name must contain a visible character (not only format marks)")
        return name


class CredentialsPatch(BaseModel):
    """Credentials sent by a client. ``None``: not sent (keep). ``""``: remove."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    api_key: str | None = Field(default=None, max_length=API_KEY_MAX)
    api_secret: str | None = Field(default=None, max_length=API_SECRET_MAX)
    api_passphrase: str | None = Field(default=None, max_length=API_PASSPHRASE_MAX)

    @field_validator("api_key", "api_passphrase")
    @classmethod
    def _single_token(cls, value: str | None) -> str | None:
        if value is not None and any(ch.isspace() or ord(ch) < 32 for ch in value):
            raise ValueError("must not contain whitespace or control characters")
        return value

    @field_validator("api_secret")
    @classmethod
    def _no_controls(cls, value: str | None) -> str | None:
        # HMAC secrets are printable; a control character is a paste gone wrong (PEM private
        # keys, which need newlines, are not a credential CTS takes).
        if value is not None and any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise ValueError("must not contain control characters")
        return value

    @property
    def sent(self) -> dict[str, str]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


M = TypeVar("M", bound=BaseModel)

DRAFT_FIELDS = frozenset(ConnectionDraft.model_fields)
SETTINGS_FIELDS = frozenset(TradingSettingsDraft.model_fields)
CREDENTIAL_FIELDS = frozenset(CredentialsPatch.model_fields)


def violations_of(error: ValidationError, *, prefix: str = "") -> list[FieldViolation]:
    """Field violations for a pydantic error, without the offending input values."""
    violations = []
    for item in error.errors(include_input=False, include_url=False):
        field = ".".join(str(part) for part in item["loc"]) or "request"
        message = item["msg"]
        if item["type"] == "missing":
            message = "required"
        elif item["type"] == "extra_forbidden":
            message = "unknown field"
        violations.append(FieldViolation(prefix + field, message))
    return violations


def validate_model(model: type[M], values: Mapping[str, Any], *, prefix: str = "") -> M:
    """``model.model_validate(values)``, raising :class:`InvalidArgument` on bad input."""
    try:
        return model.model_validate(dict(values))
    except ValidationError as exc:
        raise InvalidArgument(violations_of(exc, prefix=prefix)) from None


def name_key(name: str) -> str:
    """The form in which names are unique: trimmed and case-folded."""
    return name.strip().casefold()


def record_fields(draft: ConnectionDraft) -> dict[str, Any]:
    """The stored column values for a validated draft."""
    fields = {name: stored_value(getattr(draft, name)) for name in DRAFT_FIELDS}
    fields["name_key"] = name_key(draft.name)
    return fields


def stored_value(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def key_hint(api_key: str) -> str:
    """What may be shown of a stored API key: its last four characters, if it is long enough."""
    return "****" + api_key[-4:] if len(api_key) >= 12 else "****"
