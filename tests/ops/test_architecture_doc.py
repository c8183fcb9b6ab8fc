"""docs/ARCHITECTURE.md stays true: every ``file:function`` (or ``file:Class.method``) it names exists, every file it
names exists, the README links to it, and it stays short enough to read in ten minutes."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from services.common.settings import REPO_ROOT

DOC = REPO_ROOT / "docs" / "ARCHITECTURE.md"
REFERENCE = re.compile(r"`((?:[\w-]+/)+[\w.-]+\.(?:py|ts|tsx))(?::([\w.]+))?`")
"""A backticked path of a source file, optionally followed by ``:name`` or ``:Class.method``."""


def references() -> list[tuple[str, str | None]]:
    return [(path, name) for path, name in REFERENCE.findall(DOC.read_text()) for name in [name or None]]


def python_defines(path: Path, dotted: str) -> bool:
    """``dotted`` (``function``, ``Class`` or ``Class.method``) is defined at the top of the module at ``path``."""
    body: list[ast.stmt] = ast.parse(path.read_text()).body
    for part in dotted.split("."):
        found = next((node for node in body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                      and node.name == part), None)
        if found is None:
            return False
        body = found.body
    return True


def typescript_defines(path: Path, name: str) -> bool:
    declaration = rf"\b(?:function|const|let|class|interface|type)\s+{re.escape(name)}\b"
    return re.search(declaration, path.read_text()) is not None


def test_the_doc_names_the_journey_in_files_and_functions() -> None:
    named = [ref for ref in references() if ref[1]]
    assert len(named) >= 30, named  # a walk, not a sketch
    assert {path for path, _ in named} >= {
        "services/api/analyses/routes.py", "services/api/analyses/service.py", "services/inference_worker/tasks.py",
        "services/inference_worker/persist.py", "services/api/push.py", "frontend/src/api/analyses.ts",
    }


@pytest.mark.parametrize(("path", "name"), references(), ids=lambda value: str(value))
def test_every_file_and_function_it_names_exists(path: str, name: str | None) -> None:
    source = REPO_ROOT / path
    assert source.is_file(), f"{path} does not exist"
    if name is None:
        return
    defines = python_defines if source.suffix == ".py" else typescript_defines
    assert defines(source, name), f"{path} defines no {name}"


def test_the_readme_links_it_and_it_reads_in_ten_minutes() -> None:
    assert "docs/ARCHITECTURE.md" in (REPO_ROOT / "README.md").read_text()
    words = len(DOC.read_text().split())
    assert words < 2000, words  # ~200 words a minute, with the code open beside it
