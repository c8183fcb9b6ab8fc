"""Logging set-up shared by the services: ``LOG_FORMAT=text|json`` and ``LOG_LEVEL``, and the analysis id on every
line logged while a job runs (a context variable read by a logging filter).

JSON lines (python-json-logger) carry ``time``, ``level``, ``logger``, ``message``, ``process``, ``thread`` and,
inside a job, ``analysis_id``. Celery's own task lines (received, succeeded, failed) are tagged from the task id,
which is the analysis id (``services.api.main`` enqueues with ``task_id=<analysis id>``).
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Literal

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

LogFormat = Literal["text", "json"]

analysis_id_var: ContextVar[str | None] = ContextVar("bloomwell_analysis_id", default=None)
"""The analysis the current thread/task is working on."""

TEXT_FORMAT = "%(asctime)s %(levelname)s %(processName)s %(name)s%(analysis_tag)s: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(process)d %(threadName)s"


@contextlib.contextmanager
def analysis_context(analysis_id: object) -> Iterator[None]:
    """Tag every log line of this block (in this thread or task) with ``analysis_id``."""
    token = analysis_id_var.set(str(analysis_id))
    try:
        yield
    finally:
        analysis_id_var.reset(token)


class AnalysisIdFilter(logging.Filter):
    """Sets ``record.analysis_id`` (None outside a job) and ``record.analysis_tag`` (`` [id]`` or empty)."""

    def filter(self, record: logging.LogRecord) -> bool:
        analysis_id = getattr(record, "analysis_id", None) or analysis_id_var.get()
        if analysis_id is None and record.name.startswith("celery") and isinstance(record.args, dict):
            analysis_id = record.args.get("id")  # Celery's task lines: {"id": task id, "name": ..., ...}
        record.analysis_id = str(analysis_id) if analysis_id else None
        record.analysis_tag = f" [{analysis_id}]" if analysis_id else ""
        return True


def make_formatter(fmt: LogFormat) -> logging.Formatter:
    """The formatter of ``LOG_FORMAT``."""
    if fmt == "json":
        return JsonFormatter(JSON_FIELDS, rename_fields={"asctime": "time", "levelname": "level", "name": "logger",
                                                         "threadName": "thread"},
                             reserved_attrs=[*RESERVED_ATTRS, "analysis_tag", "color_message"],
                             defaults={"analysis_id": None})
    return logging.Formatter(TEXT_FORMAT)


def configure_logging(level: str = "INFO", fmt: LogFormat = "text") -> None:
    """One stderr handler on the root logger with the chosen format and the analysis-id filter."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(make_formatter(fmt))
    handler.addFilter(AnalysisIdFilter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())


UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


def configure_service_logging(level: str, fmt: LogFormat) -> None:
    """For the gateway and auth (run by uvicorn): with ``json``, every line, uvicorn's included, goes through the
    JSON handler; with ``text`` uvicorn's own set-up is left as it is."""
    if fmt != "json":
        return
    configure_logging(level, fmt)
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
