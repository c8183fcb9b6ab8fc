"""``services.common.logs``: JSON and text lines, the analysis id from the job context and from Celery's task lines,
and uvicorn's loggers routed through the JSON handler."""

from __future__ import annotations

import io
import json
import logging

import pytest

from services.common.logs import AnalysisIdFilter, analysis_context, configure_service_logging, make_formatter


def _line(fmt: str, logger: str, message: str, args: object = None) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(make_formatter(fmt))  # type: ignore[arg-type]
    handler.addFilter(AnalysisIdFilter())
    log = logging.getLogger(logger)
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        log.info(message, args) if args is not None else log.info(message)
    finally:
        log.removeHandler(handler)
    return stream.getvalue().strip()


def test_json_lines_carry_the_analysis_id_inside_a_job_only() -> None:
    with analysis_context("a1"):
        inside = json.loads(_line("json", "bloomwell.test", "working"))
    outside = json.loads(_line("json", "bloomwell.test", "idle"))
    assert inside["analysis_id"] == "a1" and inside["message"] == "working" and inside["level"] == "INFO"
    assert outside["analysis_id"] is None
    assert "analysis_tag" not in inside


def test_celery_task_lines_are_tagged_from_the_task_id() -> None:
    record = json.loads(_line("json", "celery.app.trace", "Task %(name)s[%(id)s] succeeded",
                              {"name": "bloomwell.analyze_video", "id": "a2"}))
    assert record["analysis_id"] == "a2" and record["message"] == "Task bloomwell.analyze_video[a2] succeeded"


def test_text_lines_show_the_id_in_brackets() -> None:
    with analysis_context("a3"):
        assert "bloomwell.test [a3]: working" in _line("text", "bloomwell.test", "working")


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    uvicorn = {name: (logging.getLogger(name).handlers[:], logging.getLogger(name).propagate)
               for name in ("uvicorn", "uvicorn.error", "uvicorn.access")}
    yield
    root.handlers, root.level = saved[0], saved[1]
    for name, (handlers, propagate) in uvicorn.items():
        logging.getLogger(name).handlers, logging.getLogger(name).propagate = handlers, propagate


def test_service_logging_json_routes_uvicorn_through_the_root_handler(restore_logging: None) -> None:
    access = logging.getLogger("uvicorn.access")
    access.addHandler(logging.NullHandler())
    access.propagate = False
    configure_service_logging("INFO", "json")
    assert access.handlers == [] and access.propagate
    assert isinstance(logging.getLogger().handlers[0].formatter, logging.Formatter)
    configure_service_logging("INFO", "text")  # text: left alone
    assert access.propagate
