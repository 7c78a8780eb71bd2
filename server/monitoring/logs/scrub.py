"""Secrets never reach a log record, whatever the logger.

Every plaintext credential passes through the vault (:mod:`server.vault.cipher`) and every
valid API token through :mod:`server.access.tokens`; both register the value here. Records are
scrubbed when they are created (a ``logging`` record factory, so every handler — ours, a
library's, stdout — only ever sees the scrubbed text): the formatted message, the exception
text and the stack. Besides the registered values, anything shaped like a bearer credential
(``Bearer …``, a CTS token ``cts_…``) is masked too, so an unknown or revoked token does not
leak either.
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from typing import Any

import ahocorasick

MASK = "****"
MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words; no exchange issues them
REBUILD_AFTER = 32  # new values searched one by one until the automaton is rebuilt with them
_SHAPES = re.compile(
    r"(?i:(?<=bearer )[^\s'\",;]+)"  # authorization: Bearer <token>
    r"|\bcts_[A-Za-z0-9_\-]{16,}"  # a CTS API token
)


class SecretScrubber:
    """Known secret values, and the masking of them (thread-safe).

    The values are found with an Aho-Corasick automaton (pyahocorasick, in C: one pass over the
    text whatever the number of values). Adding a value never rebuilds it at once: the newest
    values are searched one by one until :data:`REBUILD_AFTER` of them have gathered, so that
    registering thousands of credentials stays linear. Overlapping finds are masked together.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: set[str] = set()
        self._automaton: ahocorasick.Automaton | None = None
        self._pending: tuple[str, ...] = ()

    def add(self, *values: str | None) -> None:
        """Register secret values (idempotent; short or empty values are ignored)."""
        new = {v for v in values if v and len(v) >= MIN_SECRET_LENGTH} - self._known
        if not new:
            return
        with self._lock:
            new -= self._known
            self._known |= new
            pending = (*self._pending, *sorted(new))
            if len(pending) < REBUILD_AFTER:
                self._pending = pending
                return
            automaton = ahocorasick.Automaton(ahocorasick.STORE_LENGTH)
            for value in self._known:
                automaton.add_word(value)
            automaton.make_automaton()
            self._automaton, self._pending = automaton, ()

    def scrub(self, text: str) -> str:
        if "cts_" in text or "bearer " in text.lower():  # (the shapes' regex is the slow part)
            text = _SHAPES.sub(MASK, text)
        automaton, pending = self._automaton, self._pending  # one consistent view
        spans: list[tuple[int, int]] = []
        if automaton is not None:
            spans.extend((end + 1 - length, end + 1) for end, length in automaton.iter(text))
        for value in pending:
            at = text.find(value)
            while at >= 0:
                spans.append((at, at + len(value)))
                at = text.find(value, at + 1)
        return _masked(text, spans) if spans else text


def _masked(text: str, spans: list[tuple[int, int]]) -> str:
    parts: list[str] = []
    done = 0
    start, stop = -1, -1
    for begin, end in sorted(spans):
        if begin > stop:  # a new run of found values
            if stop >= 0:
                parts += [text[done:start], MASK]
                done = stop
            start, stop = begin, end
        else:
            stop = max(stop, end)
    parts += [text[done:start], MASK, text[stop:]]
    return "".join(parts)


SECRETS = SecretScrubber()


def remember_secrets(*values: str | None) -> None:
    """Register values that must never appear in a log."""
    SECRETS.add(*values)


def scrub(text: str) -> str:
    return SECRETS.scrub(text)


def scrub_record(record: logging.LogRecord) -> None:
    """Replace the record's message, exception and stack text by their scrubbed forms."""
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: logging reports it at emit; keep the template
        message = str(record.msg)
    record.msg = SECRETS.scrub(message)
    record.args = None
    if record.exc_info and record.exc_info[1] is not None:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        record.exc_text = SECRETS.scrub(text)
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = SECRETS.scrub(record.exc_text)
    if record.stack_info:
        record.stack_info = SECRETS.scrub(record.stack_info)


_installed = threading.Lock()


def install_record_scrubbing() -> None:
    """Scrub every record at creation (idempotent, process-wide)."""
    with _installed:
        previous = logging.getLogRecordFactory()
        if getattr(previous, "cts_scrubbing", False):
            return

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            scrub_record(record)
            return record

        factory.cts_scrubbing = True  # type: ignore[attr-defined]
        logging.setLogRecordFactory(factory)
