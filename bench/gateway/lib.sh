# Shared start-up for the gateway benches (sourced, not run): the release binaries, a work
# directory removed at exit with every process started through it, the mock upstream and
# `hegui serve` on loopback ports.
#
# The sourcing script cds to the repository root first and defines `log`. Then:
#   stack_init                         WORK (temporary directory), PIDS, CLEANUP_DIRS (more
#                                      directories to remove at exit), the cleanup trap
#   build_gateway                      release builds of hegui and hegui-mock-upstream (BIN);
#                                      SKIP_BUILD=1 uses the binaries already there
#   build_loadgen                      the release build of bench/loadgen (hegui-loadgen,
#                                      hegui-diskprobe), whatever SKIP_BUILD says
#   CHAT_BODY                          the benches' chat request (non-streamed, one user message)
#   start_mock PORT LOG [ARGS...]      the mock upstream on 127.0.0.1:PORT; waits for the port
#   new_key                            prints a fresh API key for HEGUI_BENCH_KEY
#   bench_config PORT STORAGE MOCK_PORT
#                                      prints the benches' config: hegui on 127.0.0.1:PORT, the
#                                      mock serving `mock-chat` (env MODELS: another TOML list
#                                      body), tenant `bench` with the key in HEGUI_BENCH_KEY, rate
#                                      limits far above any load (env USER_RPS: the end user's);
#                                      [guard] comes last, so that lines printed after it go in it
#   start_hegui CONFIG LOG [VAR=VALUE...]
#                                      `hegui serve --config CONFIG` with the environment given
#                                      (RUST_LOG=warn unless given) and HEGUI_BENCH_KEY=$BENCH_KEY;
#                                      waits for the config's port; HEGUI_PID is its pid
#   start_pass PORT                    the same hegui as $WORK/hegui.toml (on HEGUI_PORT) with
#                                      `pass-through = true`, on PORT and a database of its own
#   start_tmpfs PORT                   the same hegui with its ledger on /dev/shm (fsync returns
#                                      at once: not durable), on PORT
#   stop_pid PID                       SIGTERM, then waits for it to exit
#   load1, load3                       the 1-minute load average; all three
#   wait_quiet                         waits up to QUIET_WAIT s (default 600) for the 1-minute
#                                      load to fall below QUIET_LOAD (default 1.5)
#   litellm_venv                       prints the virtualenv with litellm[proxy]==1.102.4 (made
#                                      on first use)

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hegui/target}"
BIN="$CARGO_TARGET_DIR/release"

stack_init() {
  WORK="$(mktemp -d)"
  PIDS=()
  CLEANUP_DIRS=()
  trap stack_cleanup EXIT
}

stack_cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$WORK" "${CLEANUP_DIRS[@]}"
}

build_gateway() {
  if [ "${SKIP_BUILD:-0}" = 1 ]; then
    log "SKIP_BUILD=1: using the binaries in $BIN"; return 0
  fi
  log "building release binaries"
  cargo build --release -q -p hegui-cli -p hegui-gateway --bins >&2
}

build_loadgen() {
  cargo build --release -q --manifest-path bench/loadgen/Cargo.toml >&2
}

CHAT_BODY='{"model":"mock-chat","messages":[{"role":"user","content":"你好，请介绍一下你自己"}]}'

wait_port() { # PORT [PID: give up when it has exited]
  for _ in $(seq 1 600); do
    if (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    if [ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null; then break; fi
    sleep 0.2
  done
  log "port $1 did not open"; return 1
}

start_mock() {
  local port="$1" out="$2"
  shift 2
  "$BIN/hegui-mock-upstream" --listen "127.0.0.1:$port" "$@" 2>"$out" &
  PIDS+=($!)
  wait_port "$port" $!
}

new_key() {
  echo "hg_benchkey_$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
}

bench_config() {
  local models="${MODELS:-\"mock-chat\"}"
  cat <<TOML
listen = "127.0.0.1:$1"
storage = "$2"

[[upstreams]]
name = "mock"
base-url = "http://127.0.0.1:$3/v1"
models = [$models]

[[tenants]]
id = "bench"
api-key-env = "HEGUI_BENCH_KEY"

[guard]
# Rate limits are checked on every request; set far above the load so nothing is refused.
tenant-rps = 1000000.0
user-rps = ${USER_RPS:-1000000.0}
TOML
}

start_hegui() {
  local config="$1" out="$2" port
  shift 2
  port="$(sed -nE 's/^listen = "127\.0\.0\.1:([0-9]+)"/\1/p' "$config")"
  env RUST_LOG=warn "$@" HEGUI_BENCH_KEY="$BENCH_KEY" "$BIN/hegui" serve --config "$config" 2>"$out" &
  HEGUI_PID=$!
  PIDS+=("$HEGUI_PID")
  wait_port "$port" "$HEGUI_PID" || { tail -5 "$out" >&2; return 1; }
}

start_pass() {
  { echo "pass-through = true"
    sed -e "s/:$HEGUI_PORT\"/:$1\"/" -e "s#bench.db#pass.db#" "$WORK/hegui.toml"
  } > "$WORK/pass.toml"
  start_hegui "$WORK/pass.toml" "$WORK/pass.log"
}

start_tmpfs() {
  local shm
  shm="$(mktemp -d /dev/shm/hegui-bench.XXXXXX)"
  CLEANUP_DIRS+=("$shm")
  sed -e "s/:$HEGUI_PORT\"/:$1\"/" -e "s#sqlite:$WORK/bench.db#sqlite:$shm/bench.db#" \
    "$WORK/hegui.toml" > "$WORK/tmpfs.toml"
  start_hegui "$WORK/tmpfs.toml" "$WORK/tmpfs.log"
}

stop_pid() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

load1() { cut -d' ' -f1 /proc/loadavg; }
load3() { cut -d' ' -f1-3 /proc/loadavg; }

wait_quiet() {
  local waited=0 quiet="${QUIET_LOAD:-1.5}" most="${QUIET_WAIT:-600}"
  while awk -v l="$(load1)" -v q="$quiet" 'BEGIN { exit !(l >= q) }' && [ "$waited" -lt "$most" ]; do
    [ $((waited % 60)) = 0 ] && log "load $(load1) ≥ $quiet, waiting (up to ${most}s)"
    sleep 10; waited=$((waited + 10))
  done
  return 0
}

litellm_venv() {
  local venv="${HEGUI_CACHE:-$HOME/.cache/hegui}/litellm-venv"
  if [ ! -x "$venv/bin/litellm" ]; then
    log "installing litellm[proxy]==1.102.4 into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q 'litellm[proxy]==1.102.4' >&2
  fi
  echo "$venv"
}
