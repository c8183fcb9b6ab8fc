"""Thin routes, domain errors: the analyses domain knows nothing of HTTP, and every refusal it raises has one status
code and one sentence at the edge."""

from __future__ import annotations

import ast
import dataclasses
import inspect

import pytest
from pydantic import TypeAdapter

from services.api import messages
from services.api.analyses import errors
from services.api.errors import REFUSALS, http_exception
from services.common.analysis import Stage
from services.common.events import StageField
from services.common.settings import REPO_ROOT

DOMAIN_MODULES = ("service.py", "upload.py", "webhooks.py", "errors.py")
"""The analyses package below its routes."""


def concrete_errors() -> list[type[errors.AnalysisError]]:
    found = [cls for _, cls in inspect.getmembers(errors, inspect.isclass) if issubclass(cls, errors.AnalysisError)]
    return [cls for cls in found if cls not in (errors.AnalysisError, errors.UploadRefused)]


def example(cls: type[errors.AnalysisError]) -> errors.AnalysisError:
    """An instance with figures in every field."""
    if not dataclasses.is_dataclass(cls):
        return cls()
    values = {"int": 640, "float": 60.0, "str": "queued", "str | None": "the file was damaged"}
    return cls(**{f.name: values[str(f.type)] for f in dataclasses.fields(cls)})


def test_the_domain_imports_nothing_of_http() -> None:
    for name in DOMAIN_MODULES:
        tree = ast.parse((REPO_ROOT / "services" / "api" / "analyses" / name).read_text())
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        assert not {m for m in imported if m and m.split(".")[0] in {"fastapi", "starlette"}}, name


@pytest.mark.parametrize("cls", concrete_errors(), ids=lambda cls: cls.__name__)
def test_every_refusal_has_a_status_and_a_sentence_from_the_messages(cls: type[errors.AnalysisError]) -> None:
    assert cls in REFUSALS
    answer = http_exception(example(cls))
    assert 400 <= answer.status_code < 600 and answer.detail
    template = REFUSALS[cls][1]
    assert template in vars(messages).values()
    assert "{" not in answer.detail  # every placeholder was filled


def test_the_sentences_carry_the_figures() -> None:
    assert http_exception(errors.UploadTooLarge(100 * 1024 * 1024)).detail == messages.TOO_LARGE.format(limit_mb=100)
    frames = http_exception(errors.FramesTooLarge(640, 480, 320 * 240))
    assert frames.status_code == 422 and "too large (640×480)" in frames.detail and "0.1 megapixels" in frames.detail
    assert http_exception(errors.AnalysisNotFinished("queued")).detail.endswith("(status: queued).")


def test_stages_older_workers_wrote_read_as_today() -> None:
    adapter = TypeAdapter(StageField)
    assert adapter.validate_python("detecting") == adapter.validate_python("classifying") == Stage.analyzing
    assert adapter.validate_python("saving") == Stage.saving
