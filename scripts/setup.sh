#!/usr/bin/env bash
# One command from a fresh clone to a running dev setup: `npm run setup`. Safe to rerun; each
# step skips the work that is already done.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

step() { printf '\n==> %s\n' "$*"; }
# Same approach as scripts/services.sh uses for redis-server.
as_root() { if ((EUID == 0)); then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }
apt_install() { # <package>...
  command -v apt-get >/dev/null || return 1
  ((EUID == 0)) || command -v sudo >/dev/null || return 1
  export DEBIAN_FRONTEND=noninteractive
  # The package lists in a fresh container are often empty or stale; refresh only when needed.
  as_root apt-get install -y "$@" || { as_root apt-get update && as_root apt-get install -y "$@"; }
}

step "1/5 dependencies"
# node_modules/.package-lock.json is rewritten by every npm install, so it dates the tree better
# than the directory does.
installed="node_modules/.package-lock.json"
if [[ ! -f "$installed" ]]; then
  echo "node_modules is missing: npm ci"
  npm ci
elif [[ package-lock.json -nt "$installed" ]]; then
  echo "package-lock.json changed since the last install: npm ci"
  npm ci
else
  echo "node_modules is up to date with package-lock.json, skipped npm ci"
fi

step "2/5 build (server: tsc -> dist/, browser UI: vite -> dist/web)"
npm run build

step "3/5 local stores (MongoDB via FerretDB, Redis)"
bash scripts/services.sh start

step "4/5 browser for the end-to-end tests (Debian's chromium, a CJK font)"
# The browser tests drive /usr/bin/chromium through playwright-core and never download a browser.
# The font is there so zh-CN screens render (and screenshot) as text rather than empty boxes.
missing=()
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
# Captured, not piped into grep -q: an early grep exit trips pipefail.
[[ -n "$(fc-list :lang=zh 2>/dev/null || true)" ]] || missing+=(fonts-wqy-microhei)
if ((${#missing[@]} == 0)); then
  echo "/usr/bin/chromium and a Chinese font are installed, skipped"
elif apt_install "${missing[@]}"; then
  echo "installed ${missing[*]}"
else
  echo "could not install ${missing[*]} (no apt-get, or not root and no sudo): the browser tests (tests/e2e) will fail."
  echo "Install them yourself, e.g. sudo apt-get install ${missing[*]}"
fi

step "5/5 admin user"
if [[ -n "${ADMIN_EMAIL:-}" && -n "${ADMIN_PASSWORD:-}" ]]; then
  if [[ -f dist/scripts/create-admin.js ]]; then
    node dist/scripts/create-admin.js
  else
    echo "dist/scripts/create-admin.js is not built yet, skipped creating the admin user"
  fi
else
  echo "ADMIN_EMAIL and ADMIN_PASSWORD are not both set, skipped."
  echo "Later: ADMIN_EMAIL=you@example.com ADMIN_PASSWORD=... npm run admin:create"
fi

cat <<'DONE'

Setup done.
  npm run demo                      run the demo against the local stores
  npm test                          typecheck and run the tests against the local stores
  npm start                         run the server from dist/
  bash scripts/services.sh status   (or stop) the local FerretDB and Redis
DONE
