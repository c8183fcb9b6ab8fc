#!/bin/sh
# Initialise $PGDATA on first start (user, password, database from the environment), then run postgres.
set -eu
mkdir -p "$PGDATA" && chown postgres:postgres "$PGDATA" && chmod 700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  printf '%s\n' "${POSTGRES_PASSWORD:?}" > /tmp/pwfile && chown postgres /tmp/pwfile
  su postgres -c "initdb -D '$PGDATA' -U '${POSTGRES_USER:-postgres}' --pwfile=/tmp/pwfile --auth-host=scram-sha-256 --auth-local=trust" >/dev/null
  rm -f /tmp/pwfile
  echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
  DB=${POSTGRES_DB:-${POSTGRES_USER:-postgres}}   # as upstream: POSTGRES_DB, else one named after the user
  if [ "$DB" != postgres ]; then
    # a private socket directory: pg_isready (the health check) must not see this temporary server
    mkdir -p /tmp/pginit && chown postgres /tmp/pginit
    su postgres -c "pg_ctl -D '$PGDATA' -w -o \"-c listen_addresses='' -c unix_socket_directories=/tmp/pginit\" start" >/dev/null
    su postgres -c "createdb -h /tmp/pginit -U '${POSTGRES_USER:-postgres}' '$DB'"
    su postgres -c "pg_ctl -D '$PGDATA' -m fast -w stop" >/dev/null
  fi
fi
exec su postgres -c "exec postgres -D '$PGDATA' -c listen_addresses='*'"
