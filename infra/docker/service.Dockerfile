# syntax=docker/dockerfile:1
# The Python services, in two images built from one file (the compose file picks the target and the command):
#
#   --target api     gateway, auth and migrations: FastAPI, SQLAlchemy, Celery (producer), OpenCV for upload
#                    checks; no torch, no CUDA (requirements-api.txt)
#   --target worker  the inference worker: the api image's packages plus the ML stack (requirements.txt).
#                    Build arg TORCH_INDEX_URL (e.g. https://download.pytorch.org/whl/cpu) installs torch and
#                    torchvision from that index first: the CPU worker variant, without the CUDA libraries.
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
FROM base AS worker
ARG TORCH_INDEX_URL=""
COPY requirements-api.txt requirements.txt requirements-nodeps.txt constraints.txt ./
RUN if [ -n "$TORCH_INDEX_URL" ]; then \
      pip install --index-url "$TORCH_INDEX_URL" $(grep -E '^(torch|torchvision)==' constraints.txt); \
    fi \
 && pip install -r requirements.txt -c constraints.txt \
 && pip install --no-deps -r requirements-nodeps.txt
COPY alembic.ini ./
COPY migrations ./migrations
COPY models ./models
COPY bloomwell_ml ./bloomwell_ml
COPY services ./services
USER bloomwell
ENV ENVIRONMENT=production \
    BLOOMWELL_DATA_DIR=/data \
    STORAGE_DIR=/data/storage \
    WORKER_HEARTBEAT_FILE=/tmp/bloomwell-worker.heartbeat \
    WORKER_METRICS_PORT=9108
EXPOSE 9108
HEALTHCHECK --interval=15s --timeout=5s --retries=3 --start-period=120s \
  CMD ["python", "-m", "services.inference_worker.healthcheck"]
CMD ["celery", "-A", "services.inference_worker.worker", "worker", "-Q", "inference", "--concurrency", "1", \
     "--loglevel", "INFO", "--without-gossip", "--without-mingle"]
