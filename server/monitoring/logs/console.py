"""stdout: human-readable lines by default, one JSON object per line for log shippers
(``CTS_LOG_FORMAT=json``, rendered by python-json-logger). Records are already scrubbed of
secrets when they are created (:mod:`server.monitoring.logs.scrub`)."""

from __future__ import annotations

import atexit
import logging
import sys
from logging.handlers import QueueHandler, QueueListener
from queue import SimpleQueue
from typing import TextIO

from pythonjsonlogger.json import JsonFormatter

from server.monitoring.logs import about
from server.monitoring.logs.scrub import install_record_scrubbing, scrub

HUMAN_FORMAT = "%(asctime)s %(levelname)s %(name)s%(cts_where)s: %(message)s"
JSON_FIELDS = "%(levelname)s %(name)s %(message)s"
JSON_NAMES = {
    "levelname": "level",
    "name": "logger",
    about.CONNECTION: "connection_id",
    about.CATEGORY: "category",
    about.CONTEXT: "context",
    "exc_info": "stack",
}


_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message"}


def _scrub_extra(value: object) -> object:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: _scrub_extra(v) for k, v in value.items()}
    return value


class _Concerning(logging.Filter):
    """Adds the connection a record concerns (from ``extra`` or the task's scope), and scrubs
    whatever other ``extra`` values a caller attached (the JSON format prints them all)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in record.__dict__.items():
            if name not in _STANDARD and isinstance(value, str | dict):
                record.__dict__[name] = _scrub_extra(value)
        connection = getattr(record, about.CONNECTION, None) or about.connection_scope.get()
        if connection:
            setattr(record, about.CONNECTION, connection)
        record.cts_where = f" [{connection}]" if connection else ""
        return True


def console_handler(log_format: str, stream: TextIO | None = None) -> logging.Handler:
    """A handler writing to ``stream`` (stderr) in the chosen format, on the calling thread."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(_Concerning())
    if log_format == "json":
        formatter: logging.Formatter = JsonFormatter(
            JSON_FIELDS,
            rename_fields=JSON_NAMES,
            timestamp="time",  # ISO 8601 in UTC
            reserved_attrs=[*_STANDARD, "cts_where"],
        )
    else:
        formatter = logging.Formatter(HUMAN_FORMAT)
    handler.setFormatter(formatter)
    return handler


class _Handoff(QueueHandler):
    """Hands records to the console thread as they are: already scrubbed, their connection
    noted here (the task's scope is only visible on the caller's thread)."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record


def configure_console(level: str, log_format: str, stream: TextIO | None = None) -> None:
    """The process's stdout logging (``cts`` commands call this once). Lines are written by a
    thread of their own, so a slow terminal or pipe never holds up the event loop."""
    install_record_scrubbing()
    records: SimpleQueue[logging.LogRecord] = SimpleQueue()
    handoff = _Handoff(records)
    handoff.addFilter(_Concerning())
    listener = QueueListener(records, console_handler(log_format, stream))
    listener.start()
    atexit.register(listener.stop)
    root = logging.getLogger()
    root.setLevel(level.upper())
    root.addHandler(handoff)
    logging.getLogger("alembic").setLevel(logging.WARNING)
