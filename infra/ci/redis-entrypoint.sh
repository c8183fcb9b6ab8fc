#!/bin/sh
# As the upstream image: redis-server without protected mode (the container network is the boundary).
if [ "${1:-}" = redis-server ]; then shift; exec redis-server --protected-mode no "$@"; fi
exec "$@"
