"""The slim image (requirements-api.txt) carries everything the gateway, auth and migrations import, and no ML
stack: every module they load belongs to a distribution in requirements-api.txt's dependency closure (computed
from the installed packages' metadata), and torch is not among them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib import metadata

from packaging.requirements import Requirement

from services.common.settings import REPO_ROOT

IMPORTS = "import services.api.main, services.auth.main, services.common.migrations, services.common.heartbeat"
OPTIONAL = {"rich", "pygments", "setuptools"}
"""Imported only where installed: httpx's optional command line (rich, pygments), setuptools' distutils hook."""
ML_STACK = {"torch", "torchvision", "timm", "onnxruntime", "onnx", "triton", "scipy", "matplotlib", "supervision"}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements(path: str) -> list[Requirement]:
    lines = (REPO_ROOT / path).read_text().splitlines()
    return [Requirement(line.split("#")[0].strip()) for line in lines if line.split("#")[0].strip()]


def _closure(roots: list[Requirement]) -> set[str]:
    seen: set[str] = set()
    todo = [(r, frozenset(r.extras)) for r in roots]
    while todo:
        requirement, extras = todo.pop()
        name = _canonical(requirement.name)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional dependency this platform does not install
        key = f"{name}[{','.join(sorted(extras))}]"
        if key in seen:
            continue
        seen.add(key)
        for raw in dist.requires or []:
            dep = Requirement(raw)
            if dep.marker is None or any(dep.marker.evaluate({"extra": e}) for e in (extras or {""})):
                todo.append((dep, frozenset(dep.extras)))
    return {key.split("[")[0] for key in seen}


def test_api_requirements_cover_every_import_and_carry_no_ml_stack() -> None:
    closure = _closure(_requirements("requirements-api.txt"))
    assert not closure & ML_STACK, closure & ML_STACK
    code = (f"import json, sys; {IMPORTS}; "
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    loaded = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert loaded.returncode == 0, loaded.stderr
    modules = json.loads(loaded.stdout)
    owners = metadata.packages_distributions()
    needed = {_canonical(dist) for module in modules for dist in owners.get(module, [])}
    needed -= {"bloomwell", *OPTIONAL}  # this repository (copied into the image); optional imports
    assert "torch" not in needed
    assert needed <= closure, f"imported but not in requirements-api.txt's closure: {sorted(needed - closure)}"
