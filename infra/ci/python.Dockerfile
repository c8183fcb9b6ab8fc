# CI stand-in for python:3.11-slim (Docker Hub does not answer on the CI machines): Debian bookworm's
# Python 3.11 in a venv at /usr/local/venv, first on PATH, so `python`/`pip` behave as in the upstream image.
# Build context: a folder holding ca/*.crt (the host's CA files, for the TLS-rewriting package proxy).
FROM bloomwell-ci/bookworm:latest
ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8
COPY ca/ /usr/local/share/ca-certificates/
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates libglib2.0-0 \
 && update-ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && python3 -m venv /usr/local/venv \
 && /usr/local/venv/bin/pip install --no-cache-dir --upgrade pip
ENV PATH=/usr/local/venv/bin:$PATH \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    PIP_DEFAULT_TIMEOUT=180 \
    REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
CMD ["python3"]
