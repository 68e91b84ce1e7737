# Shared by the scripts in this folder: paths, the toolchain environment, the database.
# Source it; do not run it.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Project-local state (database cluster, simulated GitHub App); ignored by git.
DATA_DIR="${FORGELINK_DATA_DIR:-$ROOT/.data}"
# Tools shared by every checkout on this machine (npm-installed wasm-opt, the toolchain choice).
TOOLS_DIR="${FORGELINK_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/forgelink/tools}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

CARGO_LEPTOS_VERSION=0.3.11
BINARYEN_VERSION=132.0.0

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@";
  elif command -v sudo >/dev/null; then sudo "$@";
  else die "needs root to run: $*"; fi
}

apt_install() {
  command -v apt-get >/dev/null || die "please install these packages with your system's package manager: $*"
  log "installing system packages: $*"
  if [ ! -f "$TOOLS_DIR/.apt-updated" ] || [ -n "$(find "$TOOLS_DIR/.apt-updated" -mmin +1440)" ]; then
    as_root apt-get update -qq
    mkdir -p "$TOOLS_DIR" && touch "$TOOLS_DIR/.apt-updated"
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# The LLVM major version of Debian's rustc (22 for rustc-web 1.96), whose lld links the WASM.
debian_llvm() { /usr/bin/rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p'; }

# The Rust toolchain: rustup's when it has the wasm32 target and rust-src, else Debian's (see scripts/setup).
use_toolchain() {
  export PATH="$HOME/.cargo/bin:$TOOLS_DIR/bin:$PATH"
  if [ "$(cat "$TOOLS_DIR/toolchain" 2>/dev/null)" = debian ]; then
    export PATH="/usr/bin:$PATH"
    # Debian's rustc ships no wasm32 standard library: build it from rust-web-src.
    export RUSTC_BOOTSTRAP=1
    export CARGO_UNSTABLE_BUILD_STD=std,panic_abort
    # The linker of the LLVM this rustc uses: an older one may not read its output.
    export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER="wasm-ld-$(debian_llvm)"
    export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS=-Clinker-flavor=wasm-ld
  fi
  # Queries are checked against the committed .sqlx/ data, so builds need no database.
  export SQLX_OFFLINE="${SQLX_OFFLINE:-true}"
  # cargo-leptos compiles this into leptos_config; plain cargo runs must match or they rebuild Leptos.
  export LEPTOS_OUTPUT_NAME=forgelink
}

# --- PostgreSQL ------------------------------------------------------------------

PG_PORT="${FORGELINK_PG_PORT:-54329}"
PG_DB="${FORGELINK_PG_DB:-forgelink}"
PG_STARTED_HERE=0

pg_bin() {
  local dir
  for dir in "$(pg_config --bindir 2>/dev/null || true)" $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then echo "$dir"; return; fi
  done
  command -v initdb >/dev/null && dirname "$(command -v initdb)"
}

# Runs a PostgreSQL server program as an unprivileged user: the server refuses root.
pg_as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_data_dir() {
  local dir="$DATA_DIR/postgres"
  if [ "$(id -u)" = 0 ]; then
    mkdir -p "$dir" && chown postgres: "$dir" && chmod 700 "$dir"
    # The postgres user must reach the folder; a checkout under /root is out of its reach.
    if ! runuser -u postgres -- test -w "$dir"; then
      dir="/var/tmp/forgelink-$(printf '%s' "$ROOT" | sha1sum | cut -c1-12)/postgres"
      mkdir -p "$dir" && chown postgres: "$dir" "$(dirname "$dir")" && chmod 700 "$dir"
    fi
  fi
  mkdir -p "$dir"
  echo "$dir"
}

# Starts the project-local cluster unless DATABASE_URL is already set; exports DATABASE_URL.
start_db() {
  if [ -n "${DATABASE_URL:-}" ]; then return; fi
  local bin data
  bin="$(pg_bin)"; [ -n "$bin" ] || die "PostgreSQL server programs not found (scripts/setup installs them)"
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then useradd --system --home-dir /var/lib/postgresql postgres; fi
  data="$(pg_data_dir)"
  if [ ! -s "$data/PG_VERSION" ]; then
    log "creating a PostgreSQL cluster in $data (port $PG_PORT)"
    pg_as_owner "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C >/dev/null
    cat >>"$data/postgresql.conf" <<CONF
# forgelink: loopback only, own port, no unix socket (a checkout path may be too long for one).
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = ''
max_connections = 300
CONF
  fi
  if pg_as_owner "$bin/pg_ctl" status -D "$data" >/dev/null 2>&1; then
    # Already running (another script of this checkout started it): on its port.
    PG_PORT="$(sed -n 4p "$data/postmaster.pid")"
  else
    if port_in_use "$PG_PORT"; then
      # Another server (another checkout's, say) holds the port: take a free one.
      local wanted="$PG_PORT"
      PG_PORT="$(free_port)"
      log "port $wanted is taken; PostgreSQL gets port $PG_PORT"
    fi
    log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    # pg_stat_statements: the tests count the statements a page makes.
    pg_as_owner "$bin/pg_ctl" start -D "$data" -l "$data/server.log" -w -t 60 \
      -o "-p $PG_PORT -c shared_preload_libraries=pg_stat_statements" >/dev/null \
      || { tail -20 "$data/server.log" >&2; die "PostgreSQL did not start (log: $data/server.log)"; }
    PG_STARTED_HERE=1
  fi
  PG_DATA="$data"; PG_BIN="$bin"
  if ! "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'" | grep -q 1; then
    "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -qc "CREATE DATABASE \"$PG_DB\"" >/dev/null
  fi
  export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/$PG_DB"
}

# Stops the cluster if this script started it.
stop_db() {
  if [ "$PG_STARTED_HERE" = 1 ]; then
    pg_as_owner "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m fast >/dev/null 2>&1 || true
    PG_STARTED_HERE=0
  fi
}

# Waits until URL answers 2xx, or fails after SECONDS.
wait_for_http() {
  local url="$1" seconds="${2:-60}" i
  for ((i = 0; i < seconds * 5; i++)); do
    curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}

port_in_use() {
  python3 -c 'import socket, sys; s = socket.socket(); sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)' "$1"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Generates forgelink's own secrets once (.data/forgelink.env) unless the environment has them.
use_local_secrets() {
  if [ -n "${FORGELINK_ENCRYPTION_KEY:-}" ]; then return; fi
  local env="$DATA_DIR/forgelink.env"
  if [ ! -f "$env" ]; then
    mkdir -p "$DATA_DIR"
    (umask 077; printf 'export FORGELINK_ENCRYPTION_KEY=%s\n' "$(openssl rand -base64 32)" >"$env")
  fi
  # shellcheck source=/dev/null
  source "$env"
}

# --- the GitHub simulator ----------------------------------------------------------

GITHUB_SIM_PORT="${FORGELINK_GITHUB_SIM_PORT:-3100}"

# Uses the GitHub App configured in the environment; when none is, generates a
# simulated App once (a fresh RSA key pair and secrets in .data/, the variables
# in .data/github-app.env, ready to `source`) and exports it. Sets USE_SIMULATOR.
use_github_app() {
  USE_SIMULATOR=0
  if [ -n "${GITHUB_APP_ID:-}" ]; then return; fi
  USE_SIMULATOR=1
  local env="$DATA_DIR/github-app.env" key="$DATA_DIR/github-app.private-key.pem"
  if [ ! -f "$env" ]; then
    log "generating a simulated GitHub App in $env"
    mkdir -p "$DATA_DIR"
    (umask 077
     openssl genrsa -traditional -out "$key" 2048 2>/dev/null
     openssl rsa -in "$key" -pubout -out "$DATA_DIR/github-app.public-key.pem" 2>/dev/null
     cat >"$env.tmp" <<ENV
# A simulated GitHub App for local runs (scripts/run). Delete this folder's github-app.* to start afresh.
export GITHUB_API_URL=http://127.0.0.1:$GITHUB_SIM_PORT/api/v3
export GITHUB_WEB_URL=http://127.0.0.1:$GITHUB_SIM_PORT
export GITHUB_APP_ID=$(( 100000 + RANDOM ))
export GITHUB_APP_SLUG=forgelink-local
export GITHUB_CLIENT_ID=Iv23li$(openssl rand -hex 7)
export GITHUB_CLIENT_SECRET=$(openssl rand -hex 20)
export GITHUB_WEBHOOK_SECRET=$(openssl rand -hex 20)
export GITHUB_PRIVATE_KEY_PATH=$key
export GITHUB_SIM_PUBLIC_KEY_PATH=$DATA_DIR/github-app.public-key.pem
ENV
     mv "$env.tmp" "$env")
  fi
  # shellcheck source=/dev/null
  source "$env"
}

# Starts the simulator from the release binary; FORGELINK_URL says where forgelink listens.
SIM_PID=""
start_sim() {
  [ "$USE_SIMULATOR" = 1 ] || return 0
  GITHUB_SIM_ADDR="127.0.0.1:$GITHUB_SIM_PORT" GITHUB_SIM_FORGELINK_URL="$1" \
    GITHUB_SIM_STATE_FILE="${GITHUB_SIM_STATE_FILE-$DATA_DIR/github-sim.json}" \
    "$TARGET_DIR/release/github-sim" >"$DATA_DIR/github-sim.log" 2>&1 &
  SIM_PID=$!
  wait_for_http "http://127.0.0.1:$GITHUB_SIM_PORT/_sim/state" 30 \
    || { tail -20 "$DATA_DIR/github-sim.log" >&2; die "the GitHub simulator did not start"; }
  log "GitHub simulator at http://127.0.0.1:$GITHUB_SIM_PORT"
}

# The release WASM bundle (the islands of src/app) and server, compressed at build time
# (brotli and gzip beside each file).
# The WASM's standard library is built with it, with panics that abort at once (no
# message formatting) and no source locations: 20 KB less brotli for every page (see
# the README). That takes unstable flags, allowed by RUSTC_BOOTSTRAP for this build
# only: the front end has a target directory of its own, and the server builds as
# every other cargo command does.
leptos_release() {
  # Only this build's files: hashed names leave every earlier build's behind.
  rm -rf "$ROOT/target/site/pkg"
  RUSTC_BOOTSTRAP=1 CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="${CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS:-} -Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none" \
    cargo leptos build --release --precompress --frontend-only --lib-cargo-args=-Zbuild-std=std,panic_abort
  cargo leptos build --release --server-only
}

# The simulator's binary, resolved together with forgelink so that the crates both use are built once.
build_sim() {
  cargo build --release --no-default-features --features forgelink/ssr -p forgelink -p github-sim
}

# The product must not contain the simulator: none of its routes or pages' text in the binary.
check_no_simulator_in() {
  local found
  found=$(grep -a -o -E "This is forgelink.s GitHub simulator|GitHub simulator listening" "$1" | head -1 || true)
  [ -z "$found" ] || die "$1 contains the GitHub simulator (\"$found\")"
}

stop_sim() {
  if [ -n "$SIM_PID" ]; then kill "$SIM_PID" 2>/dev/null || true; wait "$SIM_PID" 2>/dev/null || true; SIM_PID=""; fi
}

# --- the browser tests -------------------------------------------------------------

# The browser tests' operator.
E2E_ADMIN_EMAIL="operator@forgelink.test"
SERVER_PID=""
stop_server() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; fi
}

# A fresh database beside DATABASE_URL's, so no run depends on what an earlier one left.
fresh_database() {
  local name="$1" admin="${DATABASE_URL%/*}/postgres"
  psql "$admin" -q -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" -c "CREATE DATABASE \"$name\"" >/dev/null
  echo "${DATABASE_URL%/*}/$name"
}

# Serves the release build on a fresh database, with a simulator of its own, on
# free ports, then runs Playwright (arguments go to `playwright test`). Needs
# start_db, use_local_secrets and use_github_app first.
run_browser_tests() {
  local port database
  database="$(fresh_database forgelink_e2e)"
  port="$(free_port)"
  GITHUB_SIM_PORT="$(free_port)"
  export GITHUB_API_URL="http://127.0.0.1:$GITHUB_SIM_PORT/api/v3" GITHUB_WEB_URL="http://127.0.0.1:$GITHUB_SIM_PORT"
  mkdir -p "$DATA_DIR"
  GITHUB_SIM_STATE_FILE="" start_sim "http://127.0.0.1:$port"
  DATABASE_URL="$database" LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT="$ROOT/target/site" LEPTOS_ENV=PROD \
    FORGELINK_TRUSTED_PROXIES=127.0.0.1 RUST_LOG="${RUST_LOG:-forgelink=info,tower_http=warn}" \
    "$TARGET_DIR/release/forgelink" >"$DATA_DIR/e2e-server.log" 2>&1 &
  SERVER_PID=$!
  wait_for_http "http://127.0.0.1:$port/readyz" 60 \
    || { tail -30 "$DATA_DIR/e2e-server.log" >&2; die "the server did not become ready"; }
  (cd "$ROOT/end2end" && FORGELINK_URL="http://127.0.0.1:$port" GITHUB_SIM_URL="$GITHUB_WEB_URL" \
    E2E_ADMIN_EMAIL="$E2E_ADMIN_EMAIL" E2E_DATABASE_URL="$database" \
    FORGELINK_BIN="$TARGET_DIR/release/forgelink" GITHUB_SIM_BIN="$TARGET_DIR/release/github-sim" \
    CHROMIUM_PATH="$(command -v chromium || command -v chromium-browser)" timeout 900 npx playwright test "$@") \
    | tee "$DATA_DIR/browser-tests.log"
}
