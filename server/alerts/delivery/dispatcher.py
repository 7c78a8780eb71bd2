"""Alert delivery: one bounded queue and one worker per channel, retries with back-off.

:class:`ChannelDispatcher` implements :class:`~server.alerts.delivery.contract.AlertDispatcher`.
``submit`` only puts the alert on its channel's queue (starting the channel's worker the first
time), so the caller never waits; each channel's worker posts its alerts one at a time, so a
channel that refuses, times out or answers 5xx holds up only its own queue.

Retries: a refused or lost connection, a timeout, 429 and 5xx are retried up to
``max_attempts`` in all, after ``first_backoff · 2^(n-1)`` seconds (at most ``max_backoff``)
with "equal jitter" (a random half of that taken off), or after a 429's ``Retry-After``
(seconds or an HTTP date; also Telegram's and Discord's ``retry_after`` in the JSON body) up
to ``max_backoff``. Any other answer outside 2xx (4xx, 3xx: redirects are not followed) is
final at once. Every attempt is reported through ``on_outcome``; every failed one is logged at
warning on ``cts.alerts`` without the destination's secrets (see
:mod:`server.alerts.delivery.requests`).

A full queue drops its oldest alert, reported as a final failure with ``attempt`` 0 (it was
never tried), as is an alert submitted after ``close``. ``submit`` for a channel id
already seen with a new target (URL, secret, chat) replaces the target: the next attempt,
also a retry of an alert already under way, uses the new one.

``submit`` must be called on the event loop the dispatcher runs on (it is not thread-safe).
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import errno
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp

from server.alerts.delivery.contract import (
    AlertMessage,
    ChannelTarget,
    DeliveryOutcome,
    OutcomeListener,
)
from server.alerts.delivery.requests import (
    UndeliverableTarget,
    public_destination,
    request_for,
    without_secrets,
)

log = logging.getLogger("cts.alerts")

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]

ERROR_BODY_CHARS = 200  # of a receiver's error answer kept in the outcome (secrets cut out)


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """How hard delivery tries (``Settings.alert_delivery_policy()`` builds it)."""

    max_attempts: int = 6
    timeout_seconds: float = 10.0
    first_backoff_seconds: float = 1.0
    max_backoff_seconds: float = 60.0
    queue_size: int = 1000

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.queue_size < 1:
            raise ValueError("max_attempts and queue_size must be at least 1")
        if min(self.timeout_seconds, self.first_backoff_seconds, self.max_backoff_seconds) <= 0:
            raise ValueError("timeout and back-off seconds must be positive")

    def backoff(self, attempt: int, draw: float) -> float:
        """The wait after failed attempt ``attempt`` (1-based); ``draw`` is uniform in [0, 1)."""
        full = min(self.max_backoff_seconds, self.first_backoff_seconds * 2.0 ** (attempt - 1))
        return float(full / 2 + full / 2 * draw)


@dataclass(frozen=True, slots=True)
class _Attempt:
    delivered: bool
    retryable: bool
    status_code: int | None
    error: str
    retry_after: float | None = None


@dataclass(slots=True)
class _Lane:
    """One channel: its current target, its queue, its worker and what it is working on."""

    target: ChannelTarget
    queue: asyncio.Queue[AlertMessage]
    worker: asyncio.Task[None] | None = None
    current: AlertMessage | None = None
    attempt: int = 0


class ChannelDispatcher:
    """Delivers alerts to channels (webhook, Slack, Discord, Telegram) without making the
    caller wait; see the module docstring for the rules."""

    def __init__(
        self,
        on_outcome: OutcomeListener,
        policy: DeliveryPolicy | None = None,
        *,
        clock: Clock = _utc_now,
        sleep: Sleep = asyncio.sleep,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self._on_outcome = on_outcome
        self._policy = policy or DeliveryPolicy()
        self._clock = clock
        self._sleep = sleep
        self._draw = draw
        self._lanes: dict[str, _Lane] = {}
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    @property
    def policy(self) -> DeliveryPolicy:
        return self._policy

    def submit(self, target: ChannelTarget, alert: AlertMessage) -> None:
        """Queue ``alert`` for ``target``; returns at once (on the dispatcher's event loop)."""
        if self._closed:
            self._report(target, alert, _Attempt(False, False, None, "dispatcher closed"), 0)
            return
        lane = self._lanes.get(target.id)
        if lane is None:
            lane = _Lane(target, asyncio.Queue(self._policy.queue_size))
            self._lanes[target.id] = lane
        lane.target = target
        if lane.queue.full():
            dropped = lane.queue.get_nowait()
            failure = _Attempt(False, False, None, "dropped: the channel's queue is full")
            self._report(target, dropped, failure, 0)
        lane.queue.put_nowait(alert)
        if lane.worker is None:
            lane.worker = asyncio.get_running_loop().create_task(
                self._work(lane), name=f"alert delivery to channel {target.id}"
            )

    def discard(self, channel_id: str) -> None:
        """Forget a channel (deleted or disabled): its worker ends at once, so no retry posts
        to the old destination again; what it had not delivered is reported as final failures.
        A later ``submit`` for the same id starts afresh."""
        lane = self._lanes.pop(channel_id, None)
        if lane is None:
            return
        if lane.worker is not None:
            lane.worker.cancel()  # it reports nothing more: cancelled before its next step
        self._give_up(lane, "channel removed before delivery")

    async def close(self) -> None:
        """End every worker; the alert under way and those queued are reported as final
        failures; the HTTP client is closed."""
        self._closed = True
        workers = [lane.worker for lane in self._lanes.values() if lane.worker is not None]
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        for lane in self._lanes.values():
            self._give_up(lane, "dispatcher closed before delivery")
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _give_up(self, lane: _Lane, reason: str) -> None:
        failure = _Attempt(False, False, None, reason)
        if lane.current is not None:
            self._report(lane.target, lane.current, failure, lane.attempt)
            lane.current = None
        while not lane.queue.empty():
            self._report(lane.target, lane.queue.get_nowait(), failure, 0)

    async def _work(self, lane: _Lane) -> None:
        while True:
            alert = await lane.queue.get()
            lane.current, lane.attempt = alert, 0
            try:
                await self._deliver(lane, alert)
            except Exception as exc:  # a bug must not end the channel's worker
                # Only the type: an exception's text may hold the destination.
                failure = _Attempt(False, False, None, f"internal error ({type(exc).__name__})")
                self._report(lane.target, alert, failure, lane.attempt)
            lane.current = None

    async def _deliver(self, lane: _Lane, alert: AlertMessage) -> None:
        policy = self._policy
        for attempt in range(1, policy.max_attempts + 1):
            lane.attempt = attempt
            target = lane.target  # re-read: a changed target applies from the next attempt
            result = await self._attempt(target, alert)
            final = result.delivered or not result.retryable or attempt == policy.max_attempts
            self._report(target, alert, result, attempt, final=final)
            if final:
                return
            delay = policy.backoff(attempt, self._draw())
            if result.retry_after is not None:
                delay = min(result.retry_after, policy.max_backoff_seconds)
            await self._sleep(delay)

    async def _attempt(self, target: ChannelTarget, alert: AlertMessage) -> _Attempt:
        try:
            request = request_for(target, alert)
        except UndeliverableTarget as exc:
            return _Attempt(False, False, None, str(exc))
        timeout = aiohttp.ClientTimeout(total=self._policy.timeout_seconds)
        try:
            async with self._client().post(
                request.url,
                data=request.body,
                headers=request.headers,
                timeout=timeout,
                allow_redirects=False,
            ) as response:
                status = response.status
                if 200 <= status < 300:
                    return _Attempt(True, False, status, "")
                text = await _short_text(response)
                retry_after = _retry_after(response.headers, text, self._clock())
        except TimeoutError:
            seconds = self._policy.timeout_seconds
            return _Attempt(False, True, None, f"no answer within {seconds:g} s")
        except aiohttp.ClientConnectorError as exc:
            return _Attempt(False, True, None, f"cannot connect ({_errno_name(exc.os_error)})")
        except aiohttp.InvalidURL:
            return _Attempt(False, False, None, "the channel's URL is not a valid URL")
        except (aiohttp.ClientError, OSError) as exc:
            # Lost connection, bad answer: only the type, since aiohttp's texts carry the URL.
            return _Attempt(False, True, None, f"connection failed ({type(exc).__name__})")
        except ValueError as exc:  # e.g. a header or URL aiohttp refuses: no retry helps
            return _Attempt(False, False, None, f"request refused ({type(exc).__name__})")
        error = f"HTTP {status}"
        # Secrets are cut out before the text is shortened, so no part of one can remain.
        detail = without_secrets(text, target).strip()[:ERROR_BODY_CHARS]
        if detail:
            error += f": {detail}"
        retryable = status == 429 or status >= 500
        return _Attempt(False, retryable, status, error, retry_after if status == 429 else None)

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            # No connection limit: each channel has at most one request open, and one slow
            # channel must never wait on a pool shared with the others.
            connector = aiohttp.TCPConnector(limit=0)
            self._session = aiohttp.ClientSession(connector=connector, trust_env=False)
        return self._session

    def _report(
        self,
        target: ChannelTarget,
        alert: AlertMessage,
        result: _Attempt,
        attempt: int,
        *,
        final: bool = True,
    ) -> None:
        outcome = DeliveryOutcome(
            channel_id=target.id,
            alert_id=alert.id,
            delivered=result.delivered,
            attempt=attempt,
            final=final,
            status_code=result.status_code,
            error=result.error,
            at=self._clock(),
        )
        if not result.delivered:
            log.warning(
                "alert %s to channel %s (%s, %s): attempt %d of %d failed%s: %s",
                alert.id,
                target.name,
                target.id,
                public_destination(target),
                attempt,
                self._policy.max_attempts,
                ", giving up" if final else ", will retry",
                result.error,
            )
        try:
            self._on_outcome(outcome)
        except Exception:
            log.exception("the delivery outcome listener failed")


async def _short_text(response: aiohttp.ClientResponse) -> str:
    """The head of an error answer's body, as text (the body may be anything)."""
    try:
        raw = await response.content.read(4096)
    except (aiohttp.ClientError, OSError):
        return ""
    return " ".join(raw.decode("utf-8", "replace").split())[:4096]


def _retry_after(headers: Mapping[str, str], text: str, now: datetime) -> float | None:
    """Seconds a 429 asks to wait: the ``Retry-After`` header (seconds or an HTTP date), else
    ``retry_after`` in a JSON body (Discord: top level; Telegram: under ``parameters``)."""
    value = headers.get("Retry-After")
    if value:
        value = value.strip()
        with contextlib.suppress(ValueError):
            return max(0.0, float(value))
        with contextlib.suppress(TypeError, ValueError):
            moment = email.utils.parsedate_to_datetime(value)
            return max(0.0, (moment - now).total_seconds())
    try:
        answer = json.loads(text)
    except ValueError:
        return None
    if not isinstance(answer, dict):
        return None
    parameters = answer.get("parameters")
    found = parameters.get("retry_after") if isinstance(parameters, dict) else None
    found = answer.get("retry_after", found)
    if isinstance(found, int | float) and not isinstance(found, bool):
        return max(0.0, float(found))
    return None


def _errno_name(error: OSError | None) -> str:
    if error is None or error.errno is None:
        return type(error).__name__ if error is not None else "unknown error"
    return errno.errorcode.get(error.errno, f"errno {error.errno}")
