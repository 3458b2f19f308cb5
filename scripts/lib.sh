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

# Builds the release worker into build/ (index.js + index_bg.wasm).
build_worker() {
  log "building the worker (release, wasm32)"
  "$WORKER_BUILD" --release >&2
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
