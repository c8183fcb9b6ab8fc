# CI stand-in for postgres:16-alpine: Debian bookworm's PostgreSQL (15), the same POSTGRES_USER /
# POSTGRES_PASSWORD / POSTGRES_DB contract and data directory, pg_isready on PATH.
FROM bloomwell-ci/bookworm:latest
ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8
RUN apt-get update && apt-get install -y --no-install-recommends postgresql && rm -rf /var/lib/apt/lists/*
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN chmod 755 /usr/local/bin/docker-entrypoint.sh && mkdir -p /var/run/postgresql \
 && chown postgres:postgres /var/run/postgresql
EXPOSE 5432
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
