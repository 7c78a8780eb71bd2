"""What clients may ask of the log, checked: filters, page sizes, page tokens, new entries."""

from __future__ import annotations

from collections.abc import Mapping

from server import paging
from server.errors import FieldViolation, InvalidArgument
from server.monitoring.logs.entry import Category, Level
from server.monitoring.logs.store import LogFilter

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
MAX_MESSAGE_BYTES = 8 * 1024
MAX_CONTEXT_KEYS = 32
MAX_CONTEXT_KEY = 64
MAX_CONTEXT_VALUE = 1024
MAX_TEXT = 200


def log_filter(
    *,
    level: str = "",
    category: str = "",
    since: str = "",
    until: str = "",
    text: str = "",
) -> LogFilter:
    """A filter from a request's words (the caller adds a connection it has checked)."""
    start, end = paging.time_bound(since, "since"), paging.time_bound(until, "until")
    if start is not None and end is not None and end <= start:
        raise InvalidArgument.field("until", "must be after since")
    if len(text) > MAX_TEXT:
        raise InvalidArgument.field("text", f"must be at most {MAX_TEXT} characters")
    return LogFilter(
        min_level=Level.parse(level) if level else Level.DEBUG,
        category=Category.parse(category) if category else None,
        since=start,
        until=end,
        text=text or None,
    )


def page_size_of(requested: int) -> int:
    return paging.page_size_of(requested, default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE)


def encode_page_token(where: LogFilter, before_id: int) -> str:
    return paging.encode_page_token({"b": before_id}, where.fingerprint())


def decode_page_token(token: str, where: LogFilter) -> int | None:
    """The id the page starts before, or None for the first page."""
    return paging.decode_page_token(token, where.fingerprint(), paging.before_id)


def new_entry(
    level: str, category: str, message: str, context: Mapping[str, str]
) -> tuple[Level, Category]:
    """A client's entry, checked: level and category words, a message of at most 8 KB, at most
    32 short context values. Every problem is reported at once."""
    problems: list[FieldViolation] = []
    parsed_level: Level | None = None
    parsed_category: Category | None = None
    for name, word, parse in (
        ("level", level, Level.parse),
        ("category", category, Category.parse),
    ):
        if not word:
            problems.append(FieldViolation(name, "required"))
            continue
        try:
            parsed = parse(word)
        except InvalidArgument as exc:
            problems.extend(exc.violations)
            continue
        if isinstance(parsed, Level):
            parsed_level = parsed
        else:
            parsed_category = parsed
    if not message.strip():
        problems.append(FieldViolation("message", "required"))
    elif len(message.encode()) > MAX_MESSAGE_BYTES:
        problems.append(FieldViolation("message", f"must be at most {MAX_MESSAGE_BYTES} bytes"))
    if len(context) > MAX_CONTEXT_KEYS:
        problems.append(FieldViolation("context", f"must have at most {MAX_CONTEXT_KEYS} keys"))
    for key, value in context.items():
        if not key or len(key) > MAX_CONTEXT_KEY:
            problems.append(
                FieldViolation("context", f"keys must be 1 to {MAX_CONTEXT_KEY} characters")
            )
            break
        if len(value) > MAX_CONTEXT_VALUE:
            problems.append(
                FieldViolation(f"context.{key}", f"must be at most {MAX_CONTEXT_VALUE} characters")
            )
    if problems or parsed_level is None or parsed_category is None:
        raise InvalidArgument(problems or [FieldViolation("level", "required")])
    return parsed_level, parsed_category
