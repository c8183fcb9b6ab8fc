#!/usr/bin/env bash
# `make test-compose`: the docker compose stack end to end on this machine.
#   Installs Debian's docker.io and docker-compose if missing (root), starts dockerd if none answers (stopped again
#   on exit, by its PID), builds stand-ins for base images Docker Hub will not give (scripts/ci_base_images.sh),
#   builds the images, brings up postgres, redis, migrate, auth, api, the CPU worker and web (published on
#   127.0.0.1 only), prints every image's size, drives the public API through the web proxy
#   (scripts/compose_smoke.py: signup -> login -> upload -> events -> result -> delete), scales the CPU worker to 2
#   and checks two uploads ran on two workers, then brings up a worker host (infra/compose.worker.yml) as a second
#   compose project on its own network, joining through REDIS_URL, DATABASE_URL and the shared storage volume,
#   and checks that a job ran there (its log, its metrics), then `down -v`. Every wait is bounded; on failure the
#   logs go to artifacts/compose/.
# Env: TEST_VIDEO (default ../shared/data/videos/fer_test.mp4), WEB_PORT (default: a free port), PY (python with
#      the project installed, for `make secrets`), COMPOSE_TIMEOUT (seconds per wait, default 600),
#      TEST_MONITORING (default 1: also the `monitoring` profile, Prometheus's targets and Flower's UI).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
ART=$ROOT/artifacts/compose
mkdir -p "$ART"
PY=${PY:-$ROOT/.venv/bin/python}
VIDEO=${TEST_VIDEO:-$ROOT/../shared/data/videos/fer_test.mp4}
WAIT=${COMPOSE_TIMEOUT:-600}
export COMPOSE_PROJECT_NAME=${COMPOSE_PROJECT_NAME:-bloomwellci}
export WEB_BIND=127.0.0.1
export WEB_PORT=${WEB_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
export PROMETHEUS_PORT=${PROMETHEUS_PORT:-$(free_port)} FLOWER_PORT=${FLOWER_PORT:-$(free_port)}
MONITORING=${TEST_MONITORING:-1}
export DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0   # the classic builder: no dockerfile frontend image to pull
T0=$(date +%s)
log() { echo "[test-compose +$(( $(date +%s) - T0 ))s] $*"; }
DOCKERD_PID="" UP=0 WH_UP=0
DC=(docker-compose --profile monitoring)
WH_PROJECT=${COMPOSE_PROJECT_NAME}wh
WH=(docker-compose -p "$WH_PROJECT" -f infra/compose.worker.yml)
WH_NET=${WH_PROJECT}_default

cleanup() {
  rc=$?
  if [ "$WH_UP" = 1 ]; then
    [ "$rc" != 0 ] && "${WH[@]}" logs --no-color --timestamps >"$ART/worker-host.log" 2>&1 || true
    for svc in postgres redis; do
      docker network disconnect -f "$WH_NET" "$("${DC[@]}" ps -q "$svc" 2>/dev/null)" >/dev/null 2>&1 || true
    done
    timeout 180 "${WH[@]}" down --remove-orphans >/dev/null 2>&1 || true
  fi
  if [ "$UP" = 1 ]; then
    if [ "$rc" != 0 ]; then
      log "FAILED (rc=$rc): logs in $ART"
      "${DC[@]}" ps >"$ART/ps.txt" 2>&1 || true
      "${DC[@]}" logs --no-color --timestamps >"$ART/compose.log" 2>&1 || true
    fi
    timeout 180 "${DC[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
  fi
  if [ -n "$DOCKERD_PID" ]; then
    log "stopping the dockerd this run started (pid $DOCKERD_PID)"
    kill "$DOCKERD_PID" 2>/dev/null || true
    for _ in $(seq 60); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 1; done
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- docker -------------------------------------------------------------------------------------------------
if ! command -v dockerd >/dev/null || ! command -v docker-compose >/dev/null; then
  [ "$(id -u)" = 0 ] || { echo "docker.io/docker-compose missing and not root" >&2; exit 2; }
  log "installing Debian's docker.io and docker-compose"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io docker-compose >"$ART/apt.log" 2>&1 \
    || { apt-get update -q >>"$ART/apt.log" 2>&1; DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io docker-compose >>"$ART/apt.log" 2>&1; }
fi
if ! timeout 20 docker info >/dev/null 2>&1; then
  log "starting dockerd"
  dockerd >"$ART/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  for _ in $(seq 60); do timeout 5 docker info >/dev/null 2>&1 && break; sleep 1; done
  timeout 5 docker info >/dev/null 2>&1 || { echo "dockerd did not answer within 60 s" >&2; exit 1; }
fi

# --- images -------------------------------------------------------------------------------------------------
log "base images"
timeout "$WAIT" bash scripts/ci_base_images.sh
if [ ! -f infra/secrets/jwt_private_key.pem ] || [ ! -f infra/secrets/webhook_secret ]; then
  "$PY" -m scripts.make_secrets --dir infra/secrets
fi
log "building the images"
B0=$(date +%s)
BUILD=(api web inference_worker_cpu); [ "$MONITORING" = 1 ] && BUILD+=(flower)
timeout 3600 "${DC[@]}" build "${BUILD[@]}" >"$ART/build.log" 2>&1 || { tail -40 "$ART/build.log"; exit 1; }
log "images built in $(( $(date +%s) - B0 )) s"
log "image sizes (every image here: the stack's own and the base images they are built from)"
docker images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -v '<none>' | sort | tee "$ART/images.txt"

# --- the stack ----------------------------------------------------------------------------------------------
SERVICES=(postgres redis migrate auth api inference_worker_cpu web)
UP=1
log "up: ${SERVICES[*]} (web on 127.0.0.1:$WEB_PORT)"
timeout "$WAIT" "${DC[@]}" up -d --no-build "${SERVICES[@]}"
healthy() {  # healthy <service>...: wait (bounded) until each service's containers report healthy
  for svc in "$@"; do
    for _ in $(seq "$WAIT"); do
      ids=$("${DC[@]}" ps -q "$svc")
      states=$(for id in $ids; do docker inspect -f '{{.State.Health.Status}}' "$id"; done)
      [ -n "$ids" ] && ! grep -qv '^healthy$' <<<"$states" && continue 2
      sleep 1
    done
    echo "$svc not healthy within $WAIT s: $states" >&2; return 1
  done
}
healthy postgres redis auth api web inference_worker_cpu
log "stack healthy"
BASE=http://127.0.0.1:$WEB_PORT
published=$(docker ps --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME" --format '{{.Names}} {{.Ports}}' | grep -- '->' || true)
echo "$published"
if grep -v '^[^ ]*web' <<<"$published" | grep -q .; then echo "only web may publish a port" >&2; exit 1; fi
if grep -E -- '0\.0\.0\.0:|:::' <<<"$published" | grep -q .; then echo "web must be published on 127.0.0.1 only" >&2; exit 1; fi
curl -fsS -m 10 "$BASE/" -o /dev/null

log "one user's whole flow through the web proxy"
F0=$(date +%s)
timeout "$WAIT" "$PY" scripts/compose_smoke.py "$BASE" "$VIDEO" flow --timeout "$WAIT"
log "flow done in $(( $(date +%s) - F0 )) s"

log "scaling the CPU worker to 2"
timeout "$WAIT" "${DC[@]}" up -d --no-build --no-recreate --scale inference_worker_cpu=2 inference_worker_cpu
healthy inference_worker_cpu
mapfile -t IDS < <(timeout "$WAIT" "$PY" scripts/compose_smoke.py "$BASE" "$VIDEO" parallel 2 --timeout "$WAIT")
[ "${#IDS[@]}" = 2 ] || { echo "expected two analysis ids, got: ${IDS[*]}" >&2; exit 1; }
declare -A RAN_ON
for id in "${IDS[@]}"; do
  for c in $("${DC[@]}" ps -q inference_worker_cpu); do
    # not a pipe: grep -q's early exit would make pipefail report a miss
    if grep -q "$id" <<<"$(docker logs "$c" 2>&1)"; then RAN_ON[$id]=$(docker inspect -f '{{.Name}}' "$c"); fi
  done
  log "analysis $id ran on ${RAN_ON[$id]:-?}"
done
[ -n "${RAN_ON[${IDS[0]}]:-}" ] && [ -n "${RAN_ON[${IDS[1]}]:-}" ] && [ "${RAN_ON[${IDS[0]}]}" != "${RAN_ON[${IDS[1]}]}" ] \
  || { echo "the two uploads did not run on two different workers" >&2; exit 1; }

log "a worker host joining the stack: infra/compose.worker.yml as project $WH_PROJECT on its own network"
export STORAGE_VOLUME=${COMPOSE_PROJECT_NAME}_storage   # stands in for the NFS volume a second host mounts
export DATABASE_URL="postgresql+asyncpg://bloomwell:${POSTGRES_PASSWORD:-bloomwell}@stack-postgres:5432/bloomwell"
export REDIS_URL=redis://stack-redis:6379/0
export WORKER_METRICS_PORTS=$(free_port)
WH_UP=1
timeout "$WAIT" "${WH[@]}" up --no-start --no-build inference_worker_cpu
# The stack's PostgreSQL and Redis become reachable on the worker host's network (as a second host reaches the
# database hosts), under the names its DATABASE_URL and REDIS_URL use.
docker network connect --alias stack-postgres "$WH_NET" "$("${DC[@]}" ps -q postgres)"
docker network connect --alias stack-redis "$WH_NET" "$("${DC[@]}" ps -q redis)"
timeout "$WAIT" "${WH[@]}" up -d --no-build inference_worker_cpu
WH_ID=$("${WH[@]}" ps -q inference_worker_cpu)
for _ in $(seq "$WAIT"); do
  [ "$(docker inspect -f '{{.State.Health.Status}}' "$WH_ID")" = healthy ] && break; sleep 1
done
[ "$(docker inspect -f '{{.State.Health.Status}}' "$WH_ID")" = healthy ] || { echo "worker host not healthy" >&2; exit 1; }
docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' "$WH_ID" | tee "$ART/worker-host-networks.txt"
grep -q "$WH_NET" "$ART/worker-host-networks.txt" && ! grep -q "${COMPOSE_PROJECT_NAME}_backend" "$ART/worker-host-networks.txt" \
  || { echo "the worker host must be on its own network only" >&2; exit 1; }
log "worker host healthy; the stack's own CPU workers scaled to 0, so the next job can only run there"
timeout "$WAIT" "${DC[@]}" up -d --no-build --no-recreate --scale inference_worker_cpu=0 inference_worker_cpu
mapfile -t WH_IDS < <(timeout "$WAIT" "$PY" scripts/compose_smoke.py "$BASE" "$VIDEO" parallel 1 --timeout "$WAIT")
[ "${#WH_IDS[@]}" = 1 ] || { echo "expected one analysis id, got: ${WH_IDS[*]}" >&2; exit 1; }
grep -q "${WH_IDS[0]}" <<<"$(docker logs "$WH_ID" 2>&1)" || { echo "the job did not run on the worker host" >&2; exit 1; }
log "analysis ${WH_IDS[0]} ran on the worker host ($(docker inspect -f '{{.Name}}' "$WH_ID"))"
metrics=$(curl -fsS -m 10 "http://127.0.0.1:$WORKER_METRICS_PORTS/metrics")
grep -E '^bloomwell_worker_jobs_total\{outcome="succeeded"\} [1-9]' <<<"$metrics" \
  || { echo "the worker host's metrics do not count the job" >&2; exit 1; }
log "the worker host's own metrics (127.0.0.1:$WORKER_METRICS_PORTS) count the job"
for svc in postgres redis; do docker network disconnect -f "$WH_NET" "$("${DC[@]}" ps -q "$svc")"; done
timeout 180 "${WH[@]}" down --remove-orphans >/dev/null 2>&1
WH_UP=0
timeout "$WAIT" "${DC[@]}" up -d --no-build --no-recreate --scale inference_worker_cpu=2 inference_worker_cpu
healthy inference_worker_cpu

if [ "$MONITORING" = 1 ]; then
  log "monitoring profile: prometheus on 127.0.0.1:$PROMETHEUS_PORT, flower on 127.0.0.1:$FLOWER_PORT"
  timeout "$WAIT" "${DC[@]}" up -d --no-build --no-recreate prometheus flower
  ok=0
  for _ in $(seq 120); do
    targets=$(curl -s -m 5 "http://127.0.0.1:$PROMETHEUS_PORT/api/v1/targets" || true)
    if python3 - "$targets" >"$ART/prometheus-targets.txt" 2>&1 <<'PY'
import json, sys
active = json.loads(sys.argv[1])["data"]["activeTargets"]
rows = sorted((t["labels"]["job"], t["labels"]["instance"], t["health"]) for t in active)
print("\n".join(" ".join(r) for r in rows))
up = {job for job, _, health in rows if health == "up"}
workers = [r for r in rows if r[0] == "worker"]
sys.exit(0 if {"gateway", "auth"} <= up and len(workers) == 2 else 1)
PY
    then ok=1; break; fi
    sleep 2
  done
  cat "$ART/prometheus-targets.txt"
  [ "$ok" = 1 ] || { echo "prometheus: gateway/auth not up or not 2 worker targets" >&2; exit 1; }
  grep -q '^worker .* up$' "$ART/prometheus-targets.txt" || log "note: the workers' exporter (port 9108) does not answer yet"
  for _ in $(seq 60); do curl -fs -m 5 -o /dev/null "http://127.0.0.1:$FLOWER_PORT/" && break; sleep 2; done
  curl -fsS -m 5 -o /dev/null "http://127.0.0.1:$FLOWER_PORT/" && log "flower answers"
  curl -s -m 5 "http://127.0.0.1:$PROMETHEUS_PORT/api/v1/query?query=sum(http_requests_total)%20by%20(job)" \
    | tee "$ART/prometheus-sample.json"; echo
fi

log "down -v"
timeout 300 "${DC[@]}" down -v --remove-orphans >/dev/null 2>&1
UP=0
log "PASSED in $(( $(date +%s) - T0 )) s"
