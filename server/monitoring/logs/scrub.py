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
from collections.abc import Iterable
from typing import Any

MASK = "****"
MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words; no exchange issues them
_SHAPES = (
    r"(?i:(?<=bearer )[^\s'\",;]+)",  # authorization: Bearer <token>
    r"\bcts_[A-Za-z0-9_\-]{16,}",  # a CTS API token
)


def _trie_pattern(words: Iterable[str]) -> str:
    """One regular expression matching any of ``words``, as a trie (fast for many words)."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def render(node: dict[str, Any]) -> str:
        ends = "" in node
        branches = [re.escape(char) + render(child) for char, child in node.items() if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends:
            body = "(?:" + body + ")?"
        return body

    return render(trie)


class SecretScrubber:
    """Known secret values, and the masking of them (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._pattern = re.compile("|".join(_SHAPES))

    def add(self, *values: str | None) -> None:
        """Register secret values (idempotent; short or empty values are ignored)."""
        new = {v for v in values if v and len(v) >= MIN_SECRET_LENGTH} - self._secrets
        if not new:
            return
        with self._lock:
            self._secrets |= new
            # Longest first inside the trie does not matter; the trie prefers longer matches.
            alternatives = [_trie_pattern(self._secrets), *_SHAPES]
            self._pattern = re.compile("|".join(alternatives))

    def scrub(self, text: str) -> str:
        return self._pattern.sub(MASK, text)


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
