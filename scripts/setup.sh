#!/usr/bin/env bash
# One command from a fresh clone to a running dev setup: `npm run setup`. Safe to rerun; each
# step skips the work that is already done.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

step() { printf '\n==> %s\n' "$*"; }

step "1/4 dependencies"
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

step "2/4 build (tsc -> dist/)"
npm run build

step "3/4 local stores (MongoDB via FerretDB, Redis)"
bash scripts/services.sh start

step "4/4 admin user"
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
