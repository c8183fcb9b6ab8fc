"""The CPU worker's runtime (requirements.txt, what `make run` installs and the bloomwell-worker-cpu image carries)
covers everything the worker imports and carries no torch; the worker-host compose file joins a stack only through
REDIS_URL, DATABASE_URL and the shared storage, with its own heartbeat and metrics; the CUDA image is built only
with the `gpu` profile."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement

from services.common.settings import REPO_ROOT
from tests.ops.test_slim_image import OPTIONAL, _canonical, _closure

NO_TORCH = """
import importlib.abc, sys
class NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "torchvision", "timm", "facenet_pytorch", "triton"):
            raise ModuleNotFoundError(name)
sys.meta_path.insert(0, NoTorch())
"""
WORKER_IMPORTS = (
    "import services.inference_worker.worker, services.inference_worker.healthcheck; "
    "from services.inference_worker.classifier import EmotionClassifier; "
    "from bloomwell_ml.paths import default_model_path; EmotionClassifier.load(default_model_path())"
)
MAKE_RUN_IMPORTS = WORKER_IMPORTS + "; import scripts.run_stack, bloomwell_client.cli, services.api.main, " \
    "services.auth.main"
REDIS_OPTIONAL = {"cryptography", "cffi", "opentelemetry-api"}
"""Imported by redis-py only where installed (``try: import cryptography`` / OpenTelemetry)."""
TORCH_STACK = {"torch", "torchvision", "timm", "triton", "facenet-pytorch", "onnx", "matplotlib", "av"}


def requirements(name: str) -> list[Requirement]:
    """A requirements file's requirements, following its ``-r`` includes."""
    out: list[Requirement] = []
    for raw in (REPO_ROOT / name).read_text().splitlines():
        line = raw.split("#")[0].strip()
        if line.startswith("-r "):
            out += requirements(line[3:].strip())
        elif line:
            out.append(Requirement(line))
    return out


def imported_distributions(imports: str) -> set[str]:
    """The distributions whose modules are loaded by ``imports`` run where importing torch fails."""
    listing = "; import json; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    loaded = subprocess.run([sys.executable, "-c", NO_TORCH + imports + listing], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=180)
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    modules = set(json.loads(loaded.stdout.strip().splitlines()[-1]))
    assert not {"torch", "torchvision", "timm", "facenet_pytorch"} & modules
    owners = metadata.packages_distributions()
    found = {_canonical(dist) for module in modules for dist in owners.get(module, [])}
    return found - {"bloomwell", *OPTIONAL, *REDIS_OPTIONAL}


@pytest.mark.parametrize(("requirements_file", "imports"), [("requirements-worker.txt", WORKER_IMPORTS),
                                                             ("requirements.txt", MAKE_RUN_IMPORTS)],
                         ids=["cpu-worker-image", "make-run"])
def test_runtime_requirements_cover_what_runs_and_carry_no_torch(requirements_file: str, imports: str) -> None:
    nodeps = requirements("requirements-nodeps.txt")
    closure = _closure(requirements(requirements_file)) | {_canonical(r.name) for r in nodeps}
    assert not closure & TORCH_STACK, closure & TORCH_STACK
    needed = imported_distributions(imports)
    assert needed <= closure, f"imported but not in {requirements_file}'s closure: {sorted(needed - closure)}"


@pytest.fixture(scope="module")
def worker_host() -> dict[str, Any]:
    return yaml.safe_load((REPO_ROOT / "infra" / "compose.worker.yml").read_text())


def test_a_worker_host_joins_through_redis_database_and_shared_storage(worker_host: dict[str, Any]) -> None:
    services = worker_host["services"]
    assert set(services) == {"inference_worker_cpu", "inference_worker"}
    for name, svc in services.items():
        env = svc["environment"]
        assert env["DATABASE_URL"].startswith("${DATABASE_URL:?") and env["REDIS_URL"].startswith("${REDIS_URL:?")
        assert env["STORAGE_DIR"] == "/data/storage" and svc["volumes"] == ["storage:/data/storage"]
        assert env["WEBHOOK_SECRET_FILE"] == "/run/secrets/webhook_secret" and svc["secrets"] == ["webhook_secret"]
        assert svc["healthcheck"]["test"] == ["CMD", "python", "-m", "services.inference_worker.healthcheck"]
        assert env["WORKER_HEARTBEAT_FILE"] and env["WORKER_METRICS_PORT"] == "9108"
        assert svc["ports"] == ["${WORKER_METRICS_BIND:-127.0.0.1}:${WORKER_METRICS_PORTS:-9108-9115}:9108"], name
        assert svc["build"]["context"] == ".." and "networks" not in svc  # its own (default) network
    assert services["inference_worker_cpu"]["build"]["target"] == "worker-cpu"
    assert services["inference_worker"]["profiles"] == ["gpu"]
    assert worker_host["volumes"]["storage"] == {"external": True, "name": "${STORAGE_VOLUME:-bloomwell-storage}"}
    assert worker_host["secrets"]["webhook_secret"]["file"] == "./secrets/webhook_secret"
    text = (REPO_ROOT / "infra" / "compose.worker.yml").read_text()
    assert "type=nfs" in text and "nfsvers=4.1" in text and "hard" in text


def test_the_cuda_image_is_built_only_when_asked_and_the_cpu_image_has_no_torch() -> None:
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services["inference_worker"]["profiles"] == ["gpu"]
    assert services["inference_worker"]["build"]["target"] == "worker"
    assert "profiles" not in services["inference_worker_cpu"]
    assert services["inference_worker_cpu"]["build"]["target"] == "worker-cpu"
    dockerfile = (REPO_ROOT / "infra" / "docker" / "service.Dockerfile").read_text()
    cpu_stage = dockerfile.split("AS worker-cpu", 1)[1].split("FROM ", 1)[0]
    runtime_stage = dockerfile.split("AS worker-runtime", 1)[1].split("FROM ", 1)[0]
    assert "torch" not in cpu_stage + runtime_stage.replace("no torch", "")
    assert "model.onnx" in cpu_stage and "model.pt" not in cpu_stage
