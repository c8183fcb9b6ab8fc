"""One source of settings: every environment variable is a field of a settings class (read nowhere else) with a row
in the README's configuration table, and gateway and worker read the job queue from the same fields."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError
from pydantic_settings import BaseSettings

from services.api.config import ApiSettings
from services.auth.config import AuthSettings
from services.common.celery_app import create_celery_app
from services.common.heartbeat import HeartbeatSettings
from services.common.settings import REPO_ROOT, QueueSettings
from services.inference_worker.config import WorkerSettings

SERVICE_SETTINGS: tuple[type[BaseSettings], ...] = (ApiSettings, AuthSettings, WorkerSettings, HeartbeatSettings)
LAUNCHER_VARIABLES = {"PORT", "API_WORKERS"}
"""Options of ``make run`` (``scripts/run_stack.py``), not of a service."""
ENVIRON_WRITES = {
    ("services/inference_worker/worker.py", "setdefault"): "OMP_WAIT_POLICY for OpenMP, set before torch loads",
    ("services/inference_worker/metrics_dir.py", "store"): "PROMETHEUS_MULTIPROC_DIR for prometheus_client",
}
"""The only places services touch ``os.environ``: handing a value to a library, never reading configuration."""


def variables(settings: type[BaseSettings]) -> set[str]:
    """The environment variables a settings class reads (nested models as ``PARENT__CHILD``)."""
    names = set()
    for name, field in settings.model_fields.items():
        nested = field.annotation
        if isinstance(nested, type) and issubclass(nested, BaseModel) and not issubclass(nested, BaseSettings):
            names |= {f"{name}__{child}".upper() for child in nested.model_fields}
        else:
            names.add(name.upper())
    return names


def configuration_table() -> dict[str, str]:
    """Each variable named in the first column of the README's configuration table, with its row."""
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme[readme.index("## Configuration"): readme.index("\n## ", readme.index("## Configuration") + 5)]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        if line.startswith("| `"):
            first = line.split("|")[1]
            rows.update({name: line for name in re.findall(r"`([A-Z][A-Z0-9_]*)`", first)})
    return rows


def test_every_setting_has_a_row_in_the_readme_and_every_row_is_a_setting() -> None:
    documented = configuration_table()
    settings = set().union(*(variables(cls) for cls in SERVICE_SETTINGS))
    assert sorted(settings - set(documented)) == []
    assert sorted(set(documented) - settings - LAUNCHER_VARIABLES) == []


def test_no_service_reads_the_environment_outside_its_settings() -> None:
    touched: set[tuple[str, str]] = set()
    for path in sorted((REPO_ROOT / "services").rglob("*.py")):
        relative = path.relative_to(REPO_ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr == "getenv":
                touched.add((relative, "getenv"))
            if isinstance(node, ast.Attribute) and node.attr in {"get", "setdefault", "pop", "copy"} and (
                ast.unparse(node.value) == "os.environ"
            ):
                touched.add((relative, node.attr))
            if isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
                touched.add((relative, "store" if isinstance(node.ctx, ast.Store) else "read"))
    assert touched == set(ENVIRON_WRITES)


def test_gateway_and_worker_take_the_queue_from_the_same_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://events.internal:6379/2")
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://queue.internal:6379/5")
    monkeypatch.setenv("TASK_SOFT_TIME_LIMIT_S", "100")
    monkeypatch.setenv("TASK_TIME_LIMIT_S", "120")
    monkeypatch.setenv("BROKER_VISIBILITY_MARGIN_S", "7")
    monkeypatch.setenv("INFERENCE_QUEUE", "gpu")
    for settings in (ApiSettings(_env_file=None), WorkerSettings(_env_file=None)):
        assert settings.broker_url == "redis://queue.internal:6379/5" == settings.result_backend
        app = create_celery_app(settings)
        assert app.conf.broker_url == "redis://queue.internal:6379/5"
        assert (app.conf.task_soft_time_limit, app.conf.task_time_limit) == (100, 120)
        assert app.conf.broker_transport_options["visibility_timeout"] == 127
        assert app.conf.task_default_queue == "gpu"


def test_the_broker_defaults_to_redis_and_the_soft_limit_may_not_pass_the_hard_one() -> None:
    settings = QueueSettings(_env_file=None, redis_url="redis://r:6379/1", celery_broker_url="",
                             celery_result_backend="")
    assert settings.broker_url == settings.result_backend == "redis://r:6379/1"
    with pytest.raises(ValidationError, match="TASK_SOFT_TIME_LIMIT_S"):
        QueueSettings(_env_file=None, task_soft_time_limit_s=400, task_time_limit_s=360)


def test_the_health_check_reads_the_heartbeat_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from services.inference_worker import healthcheck

    monkeypatch.setenv("WORKER_HEARTBEAT_FILE", str(tmp_path / "beat"))
    assert healthcheck.main([]) == 1
    assert str(tmp_path / "beat") in capsys.readouterr().out
