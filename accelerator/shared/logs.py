"""Structured logs: one JSON object per line, carrying the dossier being worked on.

Code that works on a dossier says so once (:func:`annotate`, e.g. when access to it is
checked); every line logged afterwards in the same request or flow step carries its id and
reference. ``ACCELERATOR_LOG_FORMAT=json`` switches every process to JSON lines (what a log
pipeline ingests); the default is readable text.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import logging
import sys
from collections.abc import Iterator
from typing import Any

#: The fields of the current request or flow step. A mutable dict, so that what a request
#: handler adds (in a worker thread, on a copy of the context) is seen by the access log.
_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "accelerator_log_context", default=None
)

#: Attributes every ``LogRecord`` has; anything else was passed with ``extra=``.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def annotate(**fields: Any) -> None:
    """Add fields to every line logged from here to the end of the current scope."""
    current = _context.get()
    if current is not None:
        current.update({k: v for k, v in fields.items() if v is not None})


def field(name: str) -> Any:
    """The value of ``name`` in the current scope (``None`` outside one, or if unset)."""
    current = _context.get()
    return None if current is None else current.get(name)


@contextlib.contextmanager
def scope(**fields: Any) -> Iterator[dict[str, Any]]:
    """A new scope (a request, a flow step on one dossier) with its own fields."""
    parent = _context.get() or {}
    token = _context.set({**parent, **{k: v for k, v in fields.items() if v is not None}})
    try:
        current = _context.get()
        assert current is not None
        yield current
    finally:
        _context.reset(token)


def annotate_dossier(dossier: Any) -> None:
    """Say which dossier this scope works on (its id, and its reference once filed)."""
    annotate(dossier_id=str(dossier.id), dossier=getattr(dossier, "reference", None))


class ContextFilter(logging.Filter):
    """Copies the current scope's fields onto each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_context.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, then every extra field."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``time level logger [dossier] message``: the dossier reference when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        where = getattr(record, "dossier", None) or getattr(record, "dossier_id", None)
        record.where = f" [{where}]" if where else ""
        return super().format(record)


class FromLevel(logging.Filter):
    """Lets through the records of ``level`` and above, and those logged with
    ``extra={"ui": True}`` (a flow's summary of its batch)."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.level or getattr(record, "ui", False) is True


def configure(
    log_format: str = "text", level: int = logging.INFO, ui_level: int | str = logging.WARNING
) -> None:
    """Send the ``accelerator`` loggers to standard error in ``log_format`` (once per process);
    only their lines of ``ui_level`` and above also go to Prefect's UI, with the flow run."""
    logger = logging.getLogger("accelerator")
    for handler in list(logger.handlers):
        # Prefect adds its console handler to its "extra loggers": ours says it once, with
        # the dossier.
        if type(handler) is not logging.StreamHandler and isinstance(
            handler, logging.StreamHandler
        ):
            logger.removeHandler(handler)
        # Its handler that ships lines to its API keeps what an operator looks for there
        # (warnings, failures; flows log a summary of each batch themselves): a batch of 500
        # intakes would otherwise send 2,000 lines, a third of its cost (docs/decisions.md).
        elif type(handler).__name__ == "APILogHandler":
            for old in [f for f in handler.filters if isinstance(f, FromLevel)]:
                handler.removeFilter(old)
            handler.addFilter(
                FromLevel(
                    logging.getLevelNamesMapping()[ui_level]
                    if isinstance(ui_level, str)
                    else ui_level
                )
            )
    if any(getattr(h, "_accelerator", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler._accelerator = True  # type: ignore[attr-defined]
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            TextFormatter("%(asctime)s %(levelname)s %(name)s%(where)s %(message)s")
        )
    handler.addFilter(ContextFilter())
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
