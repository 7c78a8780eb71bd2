"""The interceptor every RPC passes through: abuse limits, authentication, the role check, the
audit trail, then the error mapping.

Authentication: ``authorization: Bearer <token>`` metadata on every RPC except the standard
health and reflection services. Then the token's role must allow the method
(:mod:`server.rpc.permissions`), else PERMISSION_DENIED. A request that does not decode is
INVALID_ARGUMENT naming the field, after both (:mod:`server.rpc.undecodable`). A call that
changes something writes its audit entry before it answers, whatever the outcome. Errors:
:class:`~server.errors.DomainError` becomes its mapped status; any other exception becomes
INTERNAL with a log reference (see :mod:`server.rpc.errors`). Limits
(:mod:`server.access.limits`): the client address's rate and failed-authentication slowdown
before the token is checked, the token's rate after, and an open-stream place per stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import Descriptor

from server.access.audit import AuditTrail
from server.access.limits import Limits
from server.access.tokens import Principal, TokenVerifier
from server.errors import (
    DomainError,
    PermissionDenied,
    RateLimited,
    Unauthenticated,
    Unavailable,
)
from server.rpc.audit_call import call_of
from server.rpc.errors import STATUS_OF_KIND, internal_status, status_of
from server.rpc.peer import ClientAddresses
from server.rpc.permissions import Rule, rule_of
from server.rpc.undecodable import Undecodable, tolerant
from server.rpc.wrapping import WrappingInterceptor
from server.storage.database import storage_unavailable

log = logging.getLogger("cts.rpc")

# Open without a token: health, and reflection (the schema is public — it is in the repository —
# and reflection returns no data; reflection clients often cannot send headers on it).
UNAUTHENTICATED_METHODS = frozenset(
    {
        "/grpc.health.v1.Health/Check",
        "/grpc.health.v1.Health/Watch",
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    }
)

current_principal: contextvars.ContextVar[Principal | None] = contextvars.ContextVar(
    "current_principal", default=None
)


def bearer_token(metadata: tuple[tuple[str, str | bytes], ...] | None) -> str:
    for key, value in metadata or ():
        if key == "authorization":
            text = value.decode("latin-1") if isinstance(value, bytes) else value
            scheme, _, token = text.strip().partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthenticated(
                    "authorization metadata must be 'Bearer <token>'", reason="TOKEN_MALFORMED"
                )
            return token.strip()
    raise Unauthenticated(
        "missing 'authorization: Bearer <token>' metadata", reason="TOKEN_MISSING"
    )


class RpcBoundary(WrappingInterceptor):
    def __init__(
        self,
        tokens: TokenVerifier,
        audit: AuditTrail | None = None,
        limits: Limits | None = None,
        proxies: tuple[str, ...] = ("127.0.0.1", "::1"),
    ) -> None:
        """``proxies``: peers whose ``x-forwarded-for`` names the client (Envoy)."""
        super().__init__()
        self._tokens = tokens
        self._audit = audit
        self._limits = limits or Limits()
        self._addresses = ClientAddresses(proxies)

    def covers(self, method: str) -> bool:
        return method not in UNAUTHENTICATED_METHODS

    def wrap(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        decode = tolerant(handler.request_deserializer, request_descriptor(method))
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                self._guard(method, handler.unary_unary),
                request_deserializer=decode,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                self._guard(method, handler.unary_stream),
                request_deserializer=decode,
                response_serializer=handler.response_serializer,
            )
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(
                self._guard(method, handler.stream_unary),
                request_deserializer=decode,
                response_serializer=handler.response_serializer,
            )
        return grpc.stream_stream_rpc_method_handler(
            self._guard(method, handler.stream_stream),
            request_deserializer=decode,
            response_serializer=handler.response_serializer,
        )

    def _guard(self, method: str, behavior: Callable[..., Any]) -> Callable[..., Any]:
        rule = rule_of(method)
        if inspect.isasyncgenfunction(behavior):

            async def streaming(
                request: Any, context: grpc.aio.ServicerContext
            ) -> AsyncIterator[Any]:
                principal: Principal | None = None
                address, outcome = "", "OK"
                try:
                    token, principal, address = await self._authenticate(context)
                    _check(request, principal, rule)
                    async for response in self._while_valid(token, behavior(request, context)):
                        yield response
                except Exception as raised:
                    exc = _storage_busy(raised)
                    outcome = _outcome(exc, context)
                    await _abort(method, context, exc)
                finally:
                    if rule.changes and principal is not None:
                        await self._record(method, principal, request, None, address, outcome)

            return streaming

        async def unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
            principal: Principal | None = None
            response: Any = None
            address, outcome = "", "OK"
            try:
                _, principal, address = await self._authenticate(context)
                _check(request, principal, rule)
                response = await behavior(request, context)
                return response
            except Exception as raised:
                exc = _storage_busy(raised)
                outcome = _outcome(exc, context)
                await _abort(method, context, exc)
            finally:
                if rule.changes and principal is not None:
                    await self._record(method, principal, request, response, address, outcome)

        return unary

    async def _authenticate(self, context: grpc.aio.ServicerContext) -> tuple[str, Principal, str]:
        """The token, who it is, and the client's address, within the limits."""
        metadata = context.invocation_metadata()
        address = self._addresses.of(context.peer(), metadata)
        self._limits.admit_address(address)
        token = bearer_token(metadata)
        self._limits.admit_attempt(address, token)
        try:
            principal = await self._tokens.verify(token)
        except Unauthenticated:
            self._limits.failed(address)
            raise
        self._limits.admit_token(str(principal.token_id), token, address)
        current_principal.set(principal)
        return token, principal, address

    async def _record(
        self,
        method: str,
        principal: Principal,
        request: Any,
        response: Any,
        address: str,
        outcome: str,
    ) -> None:
        if self._audit is None:
            return
        try:
            await self._audit.record(
                principal, call_of(method, request, response, address, outcome)
            )
        except Exception:  # the call's own answer stands; the failure is logged for the operator
            log.exception("%s: the audit entry could not be written", method)

    async def _while_valid(self, token: str, stream: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """The stream's messages while its token stays valid. A watchdog checks the token again
        every half cache time (``CTS_TOKEN_CACHE_SECONDS`` / 2, at least 0.5 s), idle or not,
        and interrupts the stream once it is revoked or expired, which then ends with
        UNAUTHENTICATED within 1.5 cache times. Messages pass with no per-message cost."""
        every = max(0.5, self._tokens.cache_seconds / 2)
        principal = current_principal.get()
        release = self._limits.open_stream(str(principal.token_id) if principal else "")
        handler = asyncio.current_task()
        refused: list[Unauthenticated] = []
        waiting = False  # the handler is inside this generator, awaiting the stream's next item

        async def watch() -> None:
            while True:
                await asyncio.sleep(every)
                try:
                    await self._tokens.verify(token)
                except Unauthenticated as exc:
                    refused.append(exc)
                    if waiting and handler is not None:
                        handler.cancel()
                    return

        watchdog = asyncio.create_task(watch())
        iterator = aiter(stream)
        try:
            while True:
                if refused:
                    raise refused[0]
                waiting = True
                try:
                    item = await anext(iterator)
                except StopAsyncIteration:
                    return
                except asyncio.CancelledError:
                    if not refused or handler is None:
                        raise
                    handler.uncancel()  # the watchdog's cancel, turned into the refusal
                    raise refused[0] from None
                finally:
                    waiting = False
                yield item
        finally:
            release()  # the token's open-stream place
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watchdog
            close = getattr(iterator, "aclose", None)
            if close is not None:  # the stream's own clean-up (its subscription) runs now
                await close()


def _check(request: Any, principal: Principal, rule: Rule) -> None:
    if not principal.role.allows(rule.role):
        raise PermissionDenied(
            f"this call needs the {rule.role.word} role; the token '{principal.name}' has the "
            f"{principal.role.word} role",
            reason="ROLE_NOT_ALLOWED",
            metadata={"needed_role": rule.role.word, "role": principal.role.word},
        )
    if isinstance(request, Undecodable):
        raise request.error()


def _storage_busy(exc: Exception) -> Exception:
    """Storage that is busy (SQLite's write lock held past its busy timeout) or unreachable
    is UNAVAILABLE — the client may try again — not an internal error. Only the failure's
    class is logged: a driver's message can hold the database URL."""
    if not storage_unavailable(exc):
        return exc  # not storage, or a broken schema, a bad statement...: internal
    log.warning("storage unavailable: %s", type(getattr(exc, "orig", exc)).__name__)
    return Unavailable("storage is busy or unreachable; try again", reason="STORAGE_UNAVAILABLE")


def _outcome(exc: Exception, context: grpc.aio.ServicerContext) -> str:
    if isinstance(exc, DomainError):
        return str(STATUS_OF_KIND[exc.kind].name)
    if isinstance(exc, grpc.aio.AbortError):  # a servicer's own abort
        code: object = context.code()
        return str(code.name) if isinstance(code, grpc.StatusCode) else "ABORTED"
    return "INTERNAL"


def request_descriptor(method: str) -> Descriptor | None:
    """The request message of ``/package.Service/Method`` from the default descriptor pool
    (every CTS service is there once its stubs are imported)."""
    service, _, name = method.lstrip("/").partition("/")
    try:
        found = descriptor_pool.Default().FindServiceByName(service).FindMethodByName(name)
    except KeyError:
        return None
    return found.input_type if found is not None else None


async def _abort(method: str, context: grpc.aio.ServicerContext, exc: Exception) -> None:
    if isinstance(exc, grpc.aio.AbortError):
        raise exc
    if isinstance(exc, DomainError):
        status = status_of(exc)
        if not isinstance(exc, RateLimited):  # counted in metrics; a line each would flood the log
            log.info("%s: %s %s", method, status.code.name, exc.reason)
    else:
        status, reference = internal_status()
        log.error("%s failed (reference %s)", method, reference, exc_info=exc)
    await context.abort(status.code, status.details, status.trailing_metadata)
