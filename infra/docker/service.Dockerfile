# syntax=docker/dockerfile:1
# The Python services, in three images built from one file (the compose file picks the target and the command):
#
#   --target api         gateway, auth and migrations: FastAPI, SQLAlchemy, Celery (producer), OpenCV for upload
#                        checks; no torch, no CUDA (requirements-api.txt)
#   --target worker-cpu  the CPU inference worker (bloomwell-worker-cpu): its runtime (requirements-worker.txt: ONNX
#                        Runtime, YuNet through OpenCV, ByteTrack), the shipped model as ONNX (model.onnx, checksum in
#                        its card) and the face detector; no torch, none of the gateway's web stack
#   --target worker      the CUDA inference worker (bloomwell-worker): the worker's runtime plus PyTorch from PyPI (CUDA
#                        libraries included; requirements-torch.txt) and the model's .pt; built only when asked
#                        (compose profile `gpu`). Build arg TORCH_INDEX_URL installs torch/torchvision from that
#                        index first.
#
# Build from the repository root:  docker build -f infra/docker/service.Dockerfile --target api -t bloomwell-api .
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONPATH=/app

RUN useradd --create-home --uid 1000 --user-group bloomwell \
 && mkdir -p /data/storage && chown -R bloomwell:bloomwell /data
WORKDIR /app

# ---------------------------------------------------------------------------------------------------------------
FROM base AS api
COPY requirements-api.txt constraints.txt ./
RUN pip install -r requirements-api.txt -c constraints.txt
COPY alembic.ini ./
COPY migrations ./migrations
COPY bloomwell_ml ./bloomwell_ml
COPY services ./services
USER bloomwell
ENV ENVIRONMENT=production \
    BLOOMWELL_DATA_DIR=/data \
    STORAGE_DIR=/data/storage
EXPOSE 8000
CMD ["uvicorn", "--factory", "services.api.main:create_app", "--host", "0.0.0.0", "--port", "8000", \
     "--no-proxy-headers", "--no-access-log"]

# ---------------------------------------------------------------------------------------------------------------
FROM base AS worker-runtime
COPY requirements-worker.txt requirements-nodeps.txt constraints.txt ./
# Test suites shipped inside scipy and numpy are not needed to run them (≈40 MB).
RUN pip install -r requirements-worker.txt -c constraints.txt \
 && pip install --no-deps -r requirements-nodeps.txt \
 && python -c "import pathlib, shutil, sysconfig; root = pathlib.Path(sysconfig.get_paths()['purelib']); \
[shutil.rmtree(p) for pkg in ('scipy', 'numpy') for p in sorted((root / pkg).rglob('tests'), reverse=True) \
 if p.is_dir() and p.exists()]"
ENV ENVIRONMENT=production \
    BLOOMWELL_DATA_DIR=/data \
    STORAGE_DIR=/data/storage \
    WORKER_HEARTBEAT_FILE=/tmp/bloomwell-worker.heartbeat \
    WORKER_METRICS_PORT=9108 \
    OMP_WAIT_POLICY=PASSIVE
EXPOSE 9108
HEALTHCHECK --interval=15s --timeout=5s --retries=3 --start-period=120s \
  CMD ["python", "-m", "services.inference_worker.healthcheck"]
CMD ["celery", "-A", "services.inference_worker.worker", "worker", "-Q", "inference", "--concurrency", "1", \
     "--loglevel", "INFO", "--without-gossip", "--without-mingle"]

# ---------------------------------------------------------------------------------------------------------------
FROM worker-runtime AS worker-cpu
COPY models/face_detector ./models/face_detector
COPY models/face_embedder/model.onnx models/face_embedder/SHA256SUMS models/face_embedder/LICENSE \
     models/face_embedder/MODEL_CARD.md ./models/face_embedder/
# The default model is a bundle (models/expression-ensemble/bundle.json): its members as ONNX files only.
COPY models/expression-ensemble ./models/expression-ensemble
COPY models/convnext-face48/model.onnx models/convnext-face48/model_card.json models/convnext-face48/MODEL_CARD.md \
     ./models/convnext-face48/
COPY models/teachers/faceapi-expression/model.onnx models/teachers/faceapi-expression/LICENSE \
     models/teachers/faceapi-expression/MODEL_CARD.md ./models/teachers/faceapi-expression/
COPY models/teachers/fer-mini-xception/model.onnx models/teachers/fer-mini-xception/LICENSE \
     models/teachers/fer-mini-xception/MODEL_CARD.md ./models/teachers/fer-mini-xception/
COPY bloomwell_ml ./bloomwell_ml
COPY services ./services
USER bloomwell
ENV INFERENCE_DEVICE=cpu

# ---------------------------------------------------------------------------------------------------------------
FROM worker-runtime AS worker
ARG TORCH_INDEX_URL=""
COPY requirements-torch.txt requirements-torch-nodeps.txt ./
RUN if [ -n "$TORCH_INDEX_URL" ]; then \
      pip install --index-url "$TORCH_INDEX_URL" $(grep -E '^(torch|torchvision)==' constraints.txt); \
    fi \
 && pip install -r requirements-torch.txt -c constraints.txt \
 && pip install --no-deps -r requirements-torch-nodeps.txt
COPY models ./models
COPY bloomwell_ml ./bloomwell_ml
COPY services ./services
USER bloomwell
