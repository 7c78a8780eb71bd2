"""What an audit entry says about a gRPC call: the target's id and the names of the fields the
request set (never their values)."""

from __future__ import annotations

from google.protobuf.message import Message

from server.access.audit import Call

# Request fields that say which object a call is about, not what it changes.
TARGET_FIELDS = ("id", "connection_id")
NOT_CHANGES = frozenset({*TARGET_FIELDS, "update_mask"})


def call_of(
    method: str,
    request: object,
    response: object,
    client_address: str,
    outcome: str,
) -> Call:
    target, fields = "", tuple[str, ...]()
    if isinstance(request, Message):
        target = _target(request) or (_target(response) if isinstance(response, Message) else "")
        fields = _changed_fields(request)
    return Call(method.lstrip("/"), client_address, target, fields, outcome)


def _target(message: Message) -> str:
    for name in TARGET_FIELDS:
        if name in message.DESCRIPTOR.fields_by_name:
            value = getattr(message, name)
            if isinstance(value, str) and value:
                return value
    return ""


def _changed_fields(request: Message) -> tuple[str, ...]:
    mask = getattr(request, "update_mask", None)
    if mask is not None and request.HasField("update_mask") and mask.paths:
        return tuple(mask.paths)
    return tuple(_set_fields(request, "", top=True))


def _set_fields(message: Message, prefix: str, *, top: bool = False) -> list[str]:
    names: list[str] = []
    for descriptor, value in message.ListFields():
        if top and descriptor.name in NOT_CHANGES:
            continue
        name = prefix + descriptor.name
        if (
            descriptor.type == descriptor.TYPE_MESSAGE
            and not descriptor.message_type.GetOptions().map_entry
            and not descriptor.is_repeated
            and not descriptor.message_type.full_name.startswith("google.protobuf.")
        ):
            names.extend(_set_fields(value, name + ".") or [name])
        else:
            names.append(name)
    return names
