# Bloomwell — `make run` (the whole product on http://127.0.0.1:8000) and `make test` (the whole suite).
# Everything installs itself: a Python venv in .venv, the web app's npm packages, Chromium for browser tests.

PYTHON_BIN ?= python3
VENV       := .venv
PY         := $(VENV)/bin/python
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP     := $(VENV)/.installed-dev
PORT       ?= 8000
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help venv venv-runtime export-onnx frontend api-types run test test-all test-fast test-chaos lint typecheck browser-deps bench bench-load train evaluate export clean secrets test-compose

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# One .venv, in two layers with a stamp each: the runtime (requirements.txt: services, CPU worker on ONNX Runtime,
# CLI; no torch) for `make run`, then the training and test set (requirements-dev.txt: PyTorch, training, pytest,
# ruff, Playwright) that `make test` adds to the same venv.
$(RUNTIME_STAMP): requirements.txt requirements-api.txt requirements-worker.txt requirements-nodeps.txt constraints.txt pyproject.toml
	@test -x $(PY) || $(PYTHON_BIN) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools -c constraints.txt
	$(PY) -m pip install --quiet -r requirements.txt -c constraints.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-nodeps.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(RUNTIME_STAMP)

$(DEV_STAMP): $(RUNTIME_STAMP) requirements-dev.txt requirements-train.txt requirements-torch.txt requirements-torch-nodeps.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-torch-nodeps.txt
	@touch $(DEV_STAMP)

venv-runtime: $(RUNTIME_STAMP)  ## create .venv with the runtime only (what `make run` needs: no torch)

venv: $(DEV_STAMP)  ## create .venv with every Python dependency (runtime + PyTorch, training, test tools)

frontend:  ## install the web app's npm packages (lock file) and build it into frontend/dist
	@if [ -f frontend/package.json ]; then \
	  cd frontend && { [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund; } && npm run build; \
	else echo "frontend/ has no package.json yet: skipping the web app build"; fi

api-types: venv-runtime  ## regenerate the web app's API types from the gateway's OpenAPI schema (frontend/src/api/generated.ts)
	$(PY) -m scripts.export_openapi > frontend/openapi.json
	cd frontend && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run api-types

run: venv-runtime frontend  ## run auth + gateway + worker on http://127.0.0.1:$(PORT) (Ctrl-C stops all; no torch)
	PORT=$(PORT) $(PY) -m scripts.run_stack

browser-deps:  ## install Debian's Chromium for the browser tests (when missing and root)
	@bash scripts/install_chromium.sh

lint: venv  ## ruff
	$(PY) -m ruff check .

typecheck: venv  ## mypy --strict on services/, bloomwell_client/, bloomwell_ml/, training/, scripts/, bench/ (pyproject.toml)
	$(PY) -m mypy

test: venv frontend browser-deps  ## the whole default suite: ruff, mypy, ESLint, API types current, web app unit tests, Python tests (not slow)
	$(PY) -m ruff check .
	$(PY) -m mypy
	@if [ -f frontend/package.json ]; then cd frontend && npm run lint && npm run api-types:check && npm test; fi
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

test-all: venv frontend browser-deps  ## every test, including the slow ones
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: venv  ## Python unit and integration tests only (no browser, not slow)
	$(PY) -m pytest -m "not slow and not browser" $(PYTEST_ARGS)

test-chaos: venv  ## fault injection: kill -9 worker/gateway, Redis restart, PostgreSQL backends terminated (~5 min)
	$(PY) -m pytest tests/chaos -m slow -s $(PYTEST_ARGS)

bench-load: venv  ## gateway load: 50 and 200 clients polling GET /v1/analyses/{id} (p50/p99, requests/s)
	$(PY) bench/bench_load.py

bench: venv  ## speed benchmarks (print figures): every frame vs PyPI fer, cold start; the worker's stages
	$(PY) bench/bench_runtime.py
	$(PY) bench/bench_worker.py

train: venv  ## train (CONFIG=training/configs/default.yaml, the CPU preset; default-gpu.yaml made the shipped model)
	$(PY) -m training.train --config $(or $(CONFIG),training/configs/default.yaml)

evaluate: venv  ## the whole suite: the shipped bundle, 2.2.0, each teacher, every ensemble (FER2013 test/-C, serving path, CK+ folds, calibration, episode videos)
	$(PY) -m training.suite --out artifacts/eval/suite.json

export: venv  ## export the shipped model to TorchScript + ONNX (numerically checked) under artifacts/export
	$(PY) -m training.export --model default --out-dir artifacts/export

export-onnx: venv  ## rewrite models/$(or $(MODEL),convnext-face48)/model.onnx from its model.pt and record its SHA-256 in the card
	$(PY) -m training.export --model models/$(or $(MODEL),convnext-face48)/model.pt --out-dir models/$(or $(MODEL),convnext-face48) --formats onnx

clean:  ## remove local data and build outputs (keeps .venv)
	rm -rf .data artifacts frontend/dist

secrets: venv-runtime  ## create infra/secrets/ (JWT signing key, webhook secret) for docker compose, readable by the services
	$(PY) -m scripts.make_secrets --dir infra/secrets

test-compose: venv-runtime  ## the docker compose stack end to end: build, up, signup→upload→result→delete, 2 workers, down -v
	PY=$(abspath $(PY)) bash scripts/test_compose.sh
