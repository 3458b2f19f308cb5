# Shared by scripts/*: installs what is missing, skips what is there.
# Source it from the repository root.
#
# Cargo-installed tools are cached per version under $SCIM_WORKER_TOOLS
# (default ~/.cache/scim-worker), outside the checkout, so a fresh clone on the
# same machine reuses them; the versions come from Cargo.lock.

set -euo pipefail

ROOT=$(pwd)
TOOLS=${SCIM_WORKER_TOOLS:-$HOME/.cache/scim-worker}
export WRANGLER_SEND_METRICS=false
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

log() { printf '==> %s\n' "$*" >&2; }

# The version of a package in Cargo.lock.
lock_version() {
  awk -v name="$1" '$0 == "name = \"" name "\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

ensure_rust_target() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "adding Rust target wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
  fi
}

# ensure_cargo_tool <crate> <version> <binary>: prints the binary's path.
ensure_cargo_tool() {
  local crate=$1 version=$2 bin=$3
  local root="$TOOLS/$crate-$version"
  if [ ! -x "$root/bin/$bin" ]; then
    log "installing $crate $version (once; several minutes on 2 cores)"
    cargo install "$crate" --version "$version" --root "$root" >&2
  fi
  printf '%s\n' "$root/bin/$bin"
}

ensure_npm_packages() {
  local stamp=node_modules/.scim-worker-lock
  local want
  want=$(sha256sum package-lock.json | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    log "installing npm packages (wrangler, miniflare, esbuild, binaryen, node 22)"
    # The lockfile holds every platform's optional workerd package, so
    # `npm ci` installs exactly its pins and never rewrites it.
    npm ci --no-audit --no-fund >&2
    printf '%s\n' "$want" > "$stamp"
  fi
  # Node 22 from npm comes first on PATH: wrangler and miniflare need it.
  export PATH="$ROOT/node_modules/.bin:$PATH"
}

# ensure_chromium: Debian's chromium for the browser tests (apt, once);
# CHROMIUM_PATH overrides where it is. Fails when it cannot be installed.
ensure_chromium() {
  CHROMIUM_PATH=${CHROMIUM_PATH:-/usr/bin/chromium}
  if [ ! -x "$CHROMIUM_PATH" ]; then
    log "installing chromium (Debian package) for the browser tests"
    local sudo=
    [ "$(id -u)" = 0 ] || sudo=sudo
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y chromium >&2 ||
      { $sudo apt-get update >&2 && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y chromium >&2; }
  fi
  export CHROMIUM_PATH
  [ -x "$CHROMIUM_PATH" ]
}

ensure_tools() {
  ensure_rust_target
  ensure_npm_packages
  local wb_version wbg_version
  wb_version=$(lock_version worker)
  wbg_version=$(lock_version wasm-bindgen)
  WORKER_BUILD=$(ensure_cargo_tool worker-build "$wb_version" worker-build)
  export WASM_BINDGEN_BIN
  WASM_BINDGEN_BIN=$(ensure_cargo_tool wasm-bindgen-cli "$wbg_version" wasm-bindgen)
  # worker-build never looks at PATH for its helpers and would download them.
  export WASM_OPT_BIN="$ROOT/node_modules/.bin/wasm-opt"
  export ESBUILD_BIN="$ROOT/node_modules/.bin/esbuild"
}

# What worker-build leaves in build/; a build counts only if all are there.
WORKER_OUTPUTS=(build/index.js build/index_bg.wasm build/worker/shim.mjs build/package.json)
# Written by build_worker after a successful build and dated to the moment
# that build began, so that an input saved while it ran counts as newer.
WORKER_STAMP=build/.scim-worker-built

# The files and directories the build reads (those that exist): the crate,
# the lockfiles (Cargo.lock also pins worker-build and wasm-bindgen;
# package-lock.json pins wasm-opt and esbuild), a toolchain file, a build
# script, and every Cargo config Cargo would read. Directories count by
# everything below them and by their own mtime, which catches a deleted or
# renamed file. A new path dependency or include_str! outside src/ must be
# added here.
worker_inputs() {
  local f d=$ROOT cargo_home=${CARGO_HOME:-$HOME/.cargo}
  for f in src Cargo.toml Cargo.lock build.rs rust-toolchain rust-toolchain.toml package-lock.json \
           "$cargo_home/config" "$cargo_home/config.toml"; do
    [ -e "$f" ] && printf '%s\n' "$f"
  done
  while :; do
    for f in "$d/.cargo/config" "$d/.cargo/config.toml"; do [ -e "$f" ] && printf '%s\n' "$f"; done
    [ "$d" = / ] && break
    d=$(dirname "$d")
  done
  return 0
}

# How the worker is built, beyond the input files: the compiler, the tools,
# and the environment variables cargo, worker-build and esbuild read.
worker_build_settings() {
  rustc -vV
  printf '%s\n' "$WORKER_BUILD" "$WASM_BINDGEN_BIN" "$WASM_OPT_BIN" "$ESBUILD_BIN"
  env | grep -E '^(RUSTFLAGS|CARGO_ENCODED_RUSTFLAGS|CARGO_PROFILE_|CARGO_BUILD_|CARGO_TARGET_WASM32|NO_MINIFY|CUSTOM_SHIM|COREDUMP|RUN_TO_COMPLETION)' | sort || true
}

# worker_up_to_date: succeeds if build/ holds a complete build that is newer
# than every input and was made with the same settings; otherwise sets
# WORKER_STALE to the reason.
worker_up_to_date() {
  local f newer inputs
  for f in "${WORKER_OUTPUTS[@]}" "$WORKER_STAMP"; do
    [ -f "$f" ] || { WORKER_STALE="$f is missing"; return 1; }
  done
  if [ "$(cat "$WORKER_STAMP")" != "$(worker_build_settings)" ]; then
    WORKER_STALE="the toolchain, a tool or a build variable changed"
    return 1
  fi
  mapfile -t inputs < <(worker_inputs)
  newer=$(find "${inputs[@]}" -newer "$WORKER_STAMP" -print -quit)
  [ -z "$newer" ] || { WORKER_STALE="$newer is newer than the build"; return 1; }
}

# build_worker [--always]: builds the release worker into build/ (index.js,
# index_bg.wasm, worker/shim.mjs, package.json), unless it is up to date
# (see worker_up_to_date; wasm-opt alone takes ~30 s). --always builds anyway.
build_worker() {
  if [ "${1:-}" = --always ]; then
    WORKER_STALE="--always"
  elif worker_up_to_date; then
    log "skipping the worker build: build/ ($(date -r "$WORKER_STAMP" '+%F %T')) is newer than src/, Cargo.toml, Cargo.lock and the other inputs"
    return 0
  fi
  log "building the worker (release, wasm32)${WORKER_STALE:+: $WORKER_STALE}"
  mkdir -p build
  rm -f "$WORKER_STAMP"
  # Written now, so dated to the start; renamed into place only on success.
  worker_build_settings > "$WORKER_STAMP.new"
  "$WORKER_BUILD" --release >&2 || { rm -f "$WORKER_STAMP.new"; return 1; }
  mv "$WORKER_STAMP.new" "$WORKER_STAMP"
}

# ensure_venv <dir> <requirements>: a Python virtualenv in <dir> holding
# exactly <requirements> (pip specifiers, space-separated); rebuilt when the
# pinned list changes.
ensure_venv() {
  local dir=$1 requirements=$2
  local stamp=$dir/.scim-worker-requirements
  if [ ! -x "$dir/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$requirements" ]; then
    log "installing $requirements into $dir"
    python3 -m venv "$dir"
    # shellcheck disable=SC2086 # a list of specifiers
    "$dir/bin/pip" install --quiet --disable-pip-version-check $requirements >&2
    printf '%s\n' "$requirements" > "$stamp"
  fi
}

# Serves the built worker with e2e/serve.mjs (Miniflare, real D1 and KV, a
# provisioned tenant) until the calling script exits, and sets SERVED to its
# JSON line {baseUrl, token, adminUrl, adminToken}. Returns non-zero if it did
# not start. Call it directly, not in $(...): the server belongs to the shell
# that calls it.
serve_built_worker() {
  log "serving the worker (e2e/serve.mjs)"
  SERVE_TMP=$(mktemp -d)
  # setsid: the server (node and its workerd child) gets a process group of
  # its own, so that it can be ended as a whole.
  setsid node e2e/serve.mjs > "$SERVE_TMP/out" 2> "$SERVE_TMP/err" &
  SERVE_PID=$!
  trap stop_served_worker EXIT
  for _ in $(seq 120); do
    [ "$(wc -l < "$SERVE_TMP/out")" -ge 1 ] && break
    kill -0 "$SERVE_PID" 2>/dev/null || break
    sleep 0.5
  done
  if [ "$(wc -l < "$SERVE_TMP/out")" -lt 1 ]; then
    log "the worker did not start:"
    cat "$SERVE_TMP/err" >&2
    return 1
  fi
  SERVED=$(head -n1 "$SERVE_TMP/out")
}

stop_served_worker() {
  local rc=$?
  kill -TERM -- -"$SERVE_PID" 2>/dev/null || true
  wait "$SERVE_PID" 2>/dev/null || true
  rm -rf "$SERVE_TMP"
  exit "$rc"
}
