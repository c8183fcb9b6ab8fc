# One image for the Python services; the compose file picks the command (auth, api, worker, migrate).
# Build from the repository root:  docker build -f infra/docker/service.Dockerfile -t bloomwell-service .
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

RUN apt-get update \
 && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 1000 bloomwell

WORKDIR /app
COPY requirements.txt requirements-nodeps.txt constraints.txt ./
RUN pip install -r requirements.txt -c constraints.txt \
 && pip install --no-deps -r requirements-nodeps.txt

COPY pyproject.toml alembic.ini ./
COPY services ./services
COPY bloomwell_ml ./bloomwell_ml
COPY migrations ./migrations
COPY training ./training
COPY models ./models
RUN pip install --no-deps -e . && mkdir -p /data/storage && chown -R bloomwell /data

USER bloomwell
ENV ENVIRONMENT=production \
    BLOOMWELL_DATA_DIR=/data \
    STORAGE_DIR=/data/storage

EXPOSE 8000
CMD ["uvicorn", "--factory", "services.api.main:create_app", "--host", "0.0.0.0", "--port", "8000"]
