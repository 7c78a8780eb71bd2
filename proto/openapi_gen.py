"""The OpenAPI 3 document of the REST face, built from the compiled protos.

Envoy's gRPC-JSON transcoder serves every RPC at the path of its ``google.api.http``
annotation; this module describes exactly that, from a descriptor set with source info (so
the proto comments become descriptions):

* path variables, then the body (``body: "*"`` is every field not bound to the path,
  ``body: "field"`` is that field), then every remaining field as a query parameter
  (nested fields as ``a.b``, repeated fields by repetition);
* request names in lowerCamelCase (the transcoder also accepts the proto names); responses in
  proto names, because Envoy prints them (``preserve_proto_field_names``);
* the proto3 JSON mapping: 64-bit integers as strings, Timestamp as an RFC 3339 string,
  FieldMask as one comma-separated string, enums by name, wrappers as their value;
* server streams as server-sent events, one JSON message per ``data:`` line;
* the bearer token, and the one error shape (``google.rpc.Status`` as JSON).

It depends on nothing but protobuf and googleapis-common-protos.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from google.api import annotations_pb2
from google.protobuf import descriptor_pb2

FDP = descriptor_pb2.FieldDescriptorProto
OPENAPI_VERSION = "3.0.3"
STREAM_EXTENSION = "x-cts-stream"
ERROR_SCHEMA = "Error"
_OUTPUT_ONLY = re.compile(r"\bOutput only\b")
_INPUT_ONLY = re.compile(r"\bInput only\b")
# "One of: a, b, c." in a string field's comment lists the values the server accepts.
_ONE_OF = re.compile(r"\bOne of: ([A-Za-z0-9_-]+(?:, [A-Za-z0-9_-]+)*)\.")
# "Required." in a field's comment: the server refuses a request without it.
_REQUIRED = re.compile(r"\bRequired\.")
_VARIABLE = re.compile(r"\{([A-Za-z0-9_.]+)(?:=\*)?\}")
_INT32 = {"type": "integer", "format": "int32", "minimum": -(2**31), "maximum": 2**31 - 1}
_UINT32 = {"type": "integer", "format": "int32", "minimum": 0, "maximum": 2**32 - 1}
_INT64 = {"type": "string", "format": "int64", "pattern": "^-?[0-9]{1,19}$"}
_UINT64 = {"type": "string", "format": "int64", "pattern": "^[0-9]{1,20}$"}
_SCALARS: dict[int, dict[str, Any]] = {
    FDP.TYPE_STRING: {"type": "string"},
    FDP.TYPE_BYTES: {"type": "string", "format": "byte"},
    FDP.TYPE_BOOL: {"type": "boolean"},
    FDP.TYPE_DOUBLE: {"type": "number", "format": "double"},
    FDP.TYPE_FLOAT: {"type": "number", "format": "float"},
    FDP.TYPE_INT32: _INT32,
    FDP.TYPE_SINT32: _INT32,
    FDP.TYPE_SFIXED32: _INT32,
    FDP.TYPE_UINT32: _UINT32,
    FDP.TYPE_FIXED32: _UINT32,
    FDP.TYPE_INT64: _INT64,
    FDP.TYPE_SINT64: _INT64,
    FDP.TYPE_SFIXED64: _INT64,
    FDP.TYPE_UINT64: _UINT64,
    FDP.TYPE_FIXED64: _UINT64,
}
# The well-known types have their own JSON forms (proto3 JSON mapping).
_WRAPPERS = {
    "DoubleValue": FDP.TYPE_DOUBLE,
    "FloatValue": FDP.TYPE_FLOAT,
    "Int64Value": FDP.TYPE_INT64,
    "UInt64Value": FDP.TYPE_UINT64,
    "Int32Value": FDP.TYPE_INT32,
    "UInt32Value": FDP.TYPE_UINT32,
    "BoolValue": FDP.TYPE_BOOL,
    "StringValue": FDP.TYPE_STRING,
    "BytesValue": FDP.TYPE_BYTES,
}
_WELL_KNOWN: dict[str, dict[str, Any]] = {
    "google.protobuf.Timestamp": {
        "type": "string",
        "format": "date-time",
        "description": "RFC 3339, in UTC with a Z (for example 2024-05-01T12:00:00Z).",
    },
    "google.protobuf.Duration": {
        "type": "string",
        "pattern": "^-?[0-9]+(\\.[0-9]{1,9})?s$",
        "description": 'Seconds with an "s" suffix (for example "1.5s").',
    },
    "google.protobuf.FieldMask": {
        "type": "string",
        "description": "Field paths separated by commas (for example name,is_enabled).",
    },
    "google.protobuf.Empty": {"type": "object", "properties": {}},
    "google.protobuf.Struct": {"type": "object", "additionalProperties": True},
    "google.protobuf.Value": {"description": "Any JSON value."},
    "google.protobuf.ListValue": {"type": "array", "items": {}},
    "google.protobuf.Any": {
        "type": "object",
        "properties": {"@type": {"type": "string"}},
        "additionalProperties": True,
    },
}
for _name, _kind in _WRAPPERS.items():
    _WELL_KNOWN[f"google.protobuf.{_name}"] = {**_SCALARS[_kind], "nullable": True}


@dataclass
class _Message:
    proto: descriptor_pb2.DescriptorProto
    full_name: str
    comments: dict[tuple[int, ...], str]
    path: tuple[int, ...]

    def comment(self, *sub: int) -> str:
        return self.comments.get(self.path + sub, "")

    def field_comment(self, index: int) -> str:
        return self.comment(2, index)

    def is_map_entry(self) -> bool:
        return self.proto.options.map_entry


@dataclass
class _Pool:
    messages: dict[str, _Message] = field(default_factory=dict)
    enums: dict[str, tuple[descriptor_pb2.EnumDescriptorProto, str]] = field(default_factory=dict)


def _clean(comment: str) -> str:
    lines = [line[1:] if line.startswith(" ") else line for line in comment.strip("\n").split("\n")]
    return "\n".join(lines).strip()


def _comments(file: descriptor_pb2.FileDescriptorProto) -> dict[tuple[int, ...], str]:
    return {
        tuple(loc.path): _clean(loc.leading_comments)
        for loc in file.source_code_info.location
        if loc.leading_comments
    }


def _walk(
    pool: _Pool,
    prefix: str,
    messages: Any,
    enums: Any,
    comments: dict[tuple[int, ...], str],
    path: tuple[int, ...],
    message_tag: int,
    enum_tag: int,
) -> None:
    for i, enum in enumerate(enums):
        pool.enums[f"{prefix}.{enum.name}"] = (enum, comments.get((*path, enum_tag, i), ""))
    for i, message in enumerate(messages):
        name = f"{prefix}.{message.name}"
        here = (*path, message_tag, i)
        pool.messages[name] = _Message(message, name, comments, here)
        _walk(pool, name, message.nested_type, message.enum_type, comments, here, 3, 4)


def _json_name(f: descriptor_pb2.FieldDescriptorProto) -> str:
    if f.json_name:
        return f.json_name
    head, *rest = f.name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


class _Builder:
    def __init__(self, files: descriptor_pb2.FileDescriptorSet) -> None:
        self.pool = _Pool()
        self.files = list(files.file)
        for file in self.files:
            comments = _comments(file)
            prefix = f".{file.package}" if file.package else ""
            _walk(self.pool, prefix, file.message_type, file.enum_type, comments, (), 4, 5)
        self.schemas: dict[str, dict[str, Any]] = {}
        self.short_names = self._short_names()

    def _short_names(self) -> dict[str, str]:
        """Message name → component name: the message's own name (with its parent's for nested
        ones) unless two packages use it."""
        short: dict[str, str] = {}
        for name in self.pool.messages:
            package = max(
                (f.package for f in self.files if name.startswith(f".{f.package}.")),
                key=len,
                default="",
            )
            short[name] = name[len(package) + 2 :]
        seen: dict[str, int] = {}
        for value in short.values():
            seen[value] = seen.get(value, 0) + 1
        return {name: (s if seen[s] == 1 else name.lstrip(".")) for name, s in short.items()}

    # Schemas ----------------------------------------------------------------------------

    def ref(self, type_name: str, *, request: bool) -> dict[str, Any]:
        if type_name.lstrip(".") in _WELL_KNOWN:
            return dict(_WELL_KNOWN[type_name.lstrip(".")])
        component = self.short_names[type_name] + ("Input" if request else "")
        if component not in self.schemas:
            self.schemas[component] = {}  # a placeholder stops recursion
            self.schemas[component] = self.message_schema(type_name, request=request)
        return {"$ref": f"#/components/schemas/{component}"}

    def fields(
        self, type_name: str, *, request: bool, skip: frozenset[str] = frozenset()
    ) -> Iterator[tuple[str, descriptor_pb2.FieldDescriptorProto, str]]:
        """(JSON name, field, comment) of the fields a request sends or a response carries."""
        message = self.pool.messages[type_name]
        for index, f in enumerate(message.proto.field):
            comment = message.field_comment(index)
            if f.name in skip:
                continue
            if request and _OUTPUT_ONLY.search(comment):
                continue  # the server ignores it
            if not request and _INPUT_ONLY.search(comment):
                continue  # never returned
            yield (_json_name(f) if request else f.name), f, comment

    def message_schema(
        self, type_name: str, *, request: bool, skip: frozenset[str] = frozenset()
    ) -> dict[str, Any]:
        message = self.pool.messages[type_name]
        properties: dict[str, Any] = {}
        required: list[str] = []
        for name, f, comment in self.fields(type_name, request=request, skip=skip):
            schema = self.field_schema(f, request=request)
            listed = _ONE_OF.search(comment)
            if request and listed and schema == {"type": "string"}:
                schema["enum"] = listed.group(1).split(", ")
            if comment:
                schema = _describe(schema, comment)
            properties[name] = schema
            presence = f.HasField("oneof_index") or (
                f.type == FDP.TYPE_MESSAGE and f.label != FDP.LABEL_REPEATED
            )
            if not request and not presence:
                # Envoy prints every field without presence, its default included.
                required.append(name)
            if request and _REQUIRED.search(comment):
                required.append(name)
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            schema["required"] = required
        description = message.comment()
        for i, oneof in enumerate(message.proto.oneof_decl):
            members = [
                f for f in message.proto.field if f.HasField("oneof_index") and f.oneof_index == i
            ]
            if any(f.proto3_optional for f in members):
                continue  # `optional` fields are not real oneofs
            names = " / ".join(_json_name(f) if request else f.name for f in members)
            note = f"At most one of {names} is set ({oneof.name})."
            description = f"{description}\n\n{note}" if description else note
        return _describe(schema, description) if description else schema

    def field_schema(
        self, f: descriptor_pb2.FieldDescriptorProto, *, request: bool
    ) -> dict[str, Any]:
        if f.type == FDP.TYPE_MESSAGE:
            entry = self.pool.messages.get(f.type_name)
            if entry is not None and entry.is_map_entry():
                value = entry.proto.field[1]
                return {
                    "type": "object",
                    "additionalProperties": self.field_schema(value, request=request),
                }
            item = self.ref(f.type_name, request=request)
        elif f.type == FDP.TYPE_ENUM:
            item = self.enum_schema(f.type_name)
        else:
            item = dict(_SCALARS[f.type])
        if f.label == FDP.LABEL_REPEATED:
            return {"type": "array", "items": item}
        return item

    def enum_schema(self, type_name: str) -> dict[str, Any]:
        enum, comment = self.pool.enums[type_name]
        schema: dict[str, Any] = {"type": "string", "enum": [v.name for v in enum.value]}
        return _describe(schema, comment) if comment else schema

    # Operations ---------------------------------------------------------------------------

    def query_parameters(
        self, type_name: str, skip: frozenset[str], prefix: str = "", depth: int = 0
    ) -> Iterator[dict[str, Any]]:
        for name, f, comment in self.fields(type_name, request=True, skip=skip):
            wkt = _WELL_KNOWN.get(f.type_name.lstrip("."))
            entry = self.pool.messages.get(f.type_name)
            if f.type == FDP.TYPE_MESSAGE and wkt is None:
                if entry is None or entry.is_map_entry() or f.label == FDP.LABEL_REPEATED:
                    continue  # cannot travel in a query string
                if depth < 3:
                    yield from self.query_parameters(
                        f.type_name, frozenset(), f"{prefix}{name}.", depth + 1
                    )
                continue
            schema = self.field_schema(f, request=True)
            schema.pop("nullable", None)
            parameter: dict[str, Any] = {
                "name": prefix + name,
                "in": "query",
                "required": False,
                "schema": schema,
            }
            if f.label == FDP.LABEL_REPEATED:
                parameter["style"], parameter["explode"] = "form", True
            description = comment or schema.get("description", "")
            if description:
                parameter["description"] = description
            yield parameter

    def operation(
        self,
        service: str,
        method: descriptor_pb2.MethodDescriptorProto,
        comment: str,
        rule: Any,
        template: str,
        operation_id: str,
    ) -> dict[str, Any]:
        request_type = method.input_type
        bound = set()
        parameters: list[dict[str, Any]] = []
        for variable in _VARIABLE.findall(template):
            if "." in variable:
                raise ValueError(f"{method.name}: nested path variables are not supported")
            bound.add(variable)
            f = next(f for f in self.pool.messages[request_type].proto.field if f.name == variable)
            parameters.append(
                {
                    "name": variable,
                    "in": "path",
                    "required": True,
                    "schema": {**self.field_schema(f, request=True), "minLength": 1},
                }
            )
        operation: dict[str, Any] = {
            "tags": [service.rsplit(".", 1)[-1]],
            "operationId": operation_id,
            "summary": _summary(comment, method.name),
        }
        if comment:
            operation["description"] = comment
        body = rule.body
        query_skip = frozenset(bound)
        request_body = None
        if body == "*":
            query_skip = frozenset(f.name for f in self.pool.messages[request_type].proto.field)
            body_schema = self.message_schema(request_type, request=True, skip=frozenset(bound))
            request_body = _json_body(body_schema)
        elif body:
            f = next(f for f in self.pool.messages[request_type].proto.field if f.name == body)
            query_skip = frozenset({*bound, body})
            request_body = _json_body(self.field_schema(f, request=True))
        parameters.extend(self.query_parameters(request_type, query_skip))
        if parameters:
            operation["parameters"] = parameters
        if request_body is not None:
            operation["requestBody"] = request_body
        response = self.ref(method.output_type, request=False)
        if method.server_streaming:
            name = self.short_names[method.output_type]
            operation[STREAM_EXTENSION] = True
            success = {
                "description": (
                    "A stream of server-sent events: each `data:` line is one JSON "
                    f"`{name}` (see its schema). The stream stays open (heartbeats keep it "
                    "alive) until the client closes it."
                ),
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
            }
        else:
            success = {"description": "OK", "content": {"application/json": {"schema": response}}}
        error = {"$ref": f"#/components/responses/{ERROR_SCHEMA}"}
        operation["responses"] = {"200": success, "400": error, "401": error, "default": error}
        return operation

    def build(self, title: str, version: str, description: str) -> dict[str, Any]:
        paths: dict[str, dict[str, Any]] = {}
        tags = []
        for file in self.files:
            comments = _comments(file)
            for s, service in enumerate(file.service):
                full = f"{file.package}.{service.name}"
                tag: dict[str, Any] = {"name": service.name}
                if comments.get((6, s)):
                    tag["description"] = comments[(6, s)]
                routed = False
                for m, method in enumerate(service.method):
                    if not method.options.HasExtension(annotations_pb2.http):
                        continue
                    routed = True
                    rule = method.options.Extensions[annotations_pb2.http]
                    comment = comments.get((6, s, 2, m), "")
                    for n, binding in enumerate([rule, *rule.additional_bindings]):
                        verb = binding.WhichOneof("pattern")
                        if verb == "custom" or verb is None:
                            raise ValueError(f"{method.name}: custom HTTP verbs are not supported")
                        template = getattr(binding, verb)
                        operation_id = method.name if n == 0 else f"{method.name}_{n + 1}"
                        item = paths.setdefault(template, {})
                        if verb in item:
                            raise ValueError(f"{verb.upper()} {template} is bound twice")
                        item[verb] = self.operation(
                            full, method, comment, binding, template, operation_id
                        )
                if routed:
                    tags.append(tag)
        return {
            "openapi": OPENAPI_VERSION,
            "info": {"title": title, "version": version, "description": description},
            "tags": tags,
            "security": [{"bearerAuth": []}],
            "paths": paths,
            "components": {
                "securitySchemes": {
                    "bearerAuth": {
                        "type": "http",
                        "scheme": "bearer",
                        "description": (
                            "An API token (`cts token create`, or the admin token in "
                            "$CTS_DATA_DIR/admin.token)."
                        ),
                    }
                },
                "responses": {
                    ERROR_SCHEMA: {
                        "description": (
                            "An error: the HTTP status follows the gRPC code (3 → 400, 16 → 401, "
                            "7 → 403, 5 → 404, 6 → 409, 9 → 400, 8 → 429, 14 → 503)."
                        ),
                        "content": {
                            "application/json": {
                                "schema": {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}
                            }
                        },
                    }
                },
                "schemas": {ERROR_SCHEMA: _ERROR, **dict(sorted(self.schemas.items()))},
            },
        }


_ERROR: dict[str, Any] = {
    "type": "object",
    "description": "google.rpc.Status as JSON.",
    "required": ["code", "message"],
    "properties": {
        "code": {"type": "integer", "format": "int32", "description": "The gRPC status code."},
        "message": {"type": "string", "description": "What went wrong, naming the field."},
        "details": {
            "type": "array",
            "description": (
                "google.rpc.ErrorInfo (a stable `reason`), google.rpc.BadRequest (field "
                "violations) and the like, each with its `@type`."
            ),
            "items": {
                "type": "object",
                "properties": {"@type": {"type": "string"}},
                "additionalProperties": True,
            },
        },
    },
}


def _describe(schema: dict[str, Any], text: str) -> dict[str, Any]:
    if "$ref" in schema:
        # OpenAPI 3.0 ignores siblings of $ref: wrap it to keep the field's own description.
        return {"allOf": [schema], "description": text}
    own = schema.get("description")
    return {**schema, "description": f"{text}\n\n{own}" if own else text}


def _summary(comment: str, fallback: str) -> str:
    first = comment.split("\n\n")[0].replace("\n", " ").strip()
    sentence = first.split(". ")[0].rstrip(".")
    return sentence if sentence else fallback


def _json_body(schema: dict[str, Any]) -> dict[str, Any]:
    # The transcoder takes a missing body as an empty message: needed only with required fields.
    needed = bool(schema.get("required"))
    return {"required": needed, "content": {"application/json": {"schema": schema}}}


def build(
    files: descriptor_pb2.FileDescriptorSet, *, title: str, version: str, description: str
) -> dict[str, Any]:
    """The OpenAPI document of every ``google.api.http`` route in ``files``."""
    return _Builder(files).build(title, version, description)
