#!/usr/bin/env bash
# Local MongoDB-compatible store (FerretDB on SQLite) and Redis for development and tests.
#
#   bash scripts/services.sh start|stop|status
#
# Rule for each store: if its URI answers, use it and start nothing. If it does not answer and
# points at the local default (127.0.0.1/localhost on the default port), install what is missing
# and start a server whose files live in this checkout (.data/, .tools/). Anything else that does
# not answer is a configuration error, and we say which variable to fix rather than guess.
#
# `stop` only touches processes whose pidfile we wrote, so an externally run store is never killed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="$ROOT/.data"
TOOLS="$ROOT/.tools"

MONGODB_URI="${MONGODB_URI:-mongodb://127.0.0.1:27017/switchboard}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"

FERRETDB_MODULE="github.com/FerretDB/FerretDB"
FERRETDB_VERSION="v1.24.2"
# From FerretDB v1.24.2's go.mod ("go 1.24"); rechecked against the real go.mod once downloaded.
# Known before download so we can say what to install when there is no Go at all.
FERRETDB_MIN_GO="1.24"
FERRETDB_BIN="$TOOLS/bin/ferretdb"
# Names the exact recipe below (version + our patch). A binary or a running server built by another
# recipe is rebuilt / restarted, so a checkout never keeps running an outdated build.
FERRETDB_BUILD_ID="$FERRETDB_VERSION+switchboard.4"
# SQLite's durability per commit. "normal" (WAL without an fsync per commit) survives a crash of
# FerretDB or of our processes; an OS crash or power cut may lose the last commits, as with MongoDB's
# default write concern (journal flushed every 100 ms). "full" fsyncs every commit: each write then
# waits for the disk, which on this machine's disk made every call's writes several times slower.
FERRETDB_SQLITE_SYNCHRONOUS="${FERRETDB_SQLITE_SYNCHRONOUS:-normal}"
[[ "$FERRETDB_SQLITE_SYNCHRONOUS" =~ ^(off|normal|full|extra)$ ]] || { echo "FERRETDB_SQLITE_SYNCHRONOUS must be off, normal, full or extra" >&2; exit 2; }
# What a running server must have been started with (build + settings); anything else is restarted.
FERRETDB_RUN_ID="$FERRETDB_BUILD_ID synchronous=$FERRETDB_SQLITE_SYNCHRONOUS"
FERRETDB_DIR="$DATA/ferretdb"
FERRETDB_STATE="$DATA/ferretdb-state"
FERRETDB_PID="$FERRETDB_DIR/ferretdb.pid"
FERRETDB_LOG="$FERRETDB_DIR/ferretdb.log"
FERRETDB_DEBUG_ADDR="${FERRETDB_DEBUG_ADDR:-127.0.0.1:28088}"

REDIS_DIR="$DATA/redis"
REDIS_PID="$REDIS_DIR/redis.pid"
REDIS_LOG="$REDIS_DIR/redis.log"

log() { printf '  %s\n' "$*"; }
die() { printf 'services: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# URI helpers

# Prints "host port" for a single-host URI, or nothing when the URI has several hosts or is an
# SRV record: those are never "the local default", so the caller treats them as external.
uri_host_port() { # <uri> <default port>
  local rest="${1#*://}"
  [[ "$1" == mongodb+srv://* || "$1" == rediss://* || "$1" == *+sentinel://* ]] && return 0
  rest="${rest%%[/?]*}"
  rest="${rest##*@}"
  [[ "$rest" == *,* || -z "$rest" ]] && return 0
  if [[ "$rest" == \[*\]* ]]; then # [::1]:port
    local host="${rest%%]*}]"; local port="${rest#"$host"}"; port="${port#:}"
    echo "$host ${port:-$2}"
  elif [[ "$rest" == *:* ]]; then
    echo "${rest%%:*} ${rest##*:}"
  else
    echo "$rest $2"
  fi
}

is_local_default() { # <uri> <default port>
  local hp; hp="$(uri_host_port "$1" "$2")"
  [[ -n "$hp" ]] || return 1
  local host="${hp% *}" port="${hp#* }"
  [[ "$port" == "$2" && ( "$host" == 127.0.0.1 || "$host" == localhost ) ]]
}

uri_port() { local hp; hp="$(uri_host_port "$1" "$2")"; echo "${hp#* }"; }

# Hides the password if a URI carries one, so it never lands in CI logs.
redact() { sed -E -e 's#(://[^:/@]*:)[^@/]*@#\1***@#' -e 's#([?&]sentinel_?[pP]assword=)[^&]*#\1***#' <<<"$1"; }

# A Redis behind Sentinel (REDIS_URL=redis+sentinel://…): ping-stores.js asks the Sentinels for the master.
is_sentinel_url() { [[ "$1" == redis+sentinel://* || "$1" == rediss+sentinel://* ]]; }

# ---------------------------------------------------------------------------------------------
# Does it answer?

have_node_drivers() {
  [[ -d "$ROOT/node_modules/mongodb" && -d "$ROOT/node_modules/ioredis" ]] && command -v node >/dev/null
}

tcp_open() { # <host> <port>
  timeout 2 bash -c "exec 3<>/dev/tcp/${1//[\[\]]/}/$2" 2>/dev/null
}

# A real protocol ping when the drivers are installed; before `npm ci` has run we can only tell
# whether something listens, which is enough for "do not start a second one".
answers() { # mongo|redis <uri>
  if have_node_drivers; then
    node "$ROOT/scripts/ping-stores.js" "$1" "$2"
  elif [[ "$1" == redis ]] && is_sentinel_url "$2"; then
    log "redis: cannot check a Sentinel URL before npm ci has installed ioredis"
    return 1
  elif [[ "$1" == redis ]] && command -v redis-cli >/dev/null; then
    [[ "$(timeout 2 redis-cli -u "$2" ping 2>/dev/null)" == PONG ]]
  else
    local hp; hp="$(uri_host_port "$2" "$([[ $1 == mongo ]] && echo 27017 || echo 6379)")"
    [[ -n "$hp" ]] && tcp_open ${hp}
  fi
}

# ---------------------------------------------------------------------------------------------
# Pidfiles: a pid counts as ours only if it is alive and still runs the program we started
# (pids get reused after a reboot or a crash).

# A zombie still passes `kill -0`, and in containers whose init does not reap them it stays one;
# its cmdline is empty, so that is the liveness test (procfs sizes read 0, hence no `-s`).
alive() { [[ -n "$1" ]] && [[ -n "$(tr -d '\0' 2>/dev/null <"/proc/$1/cmdline")" ]]; }

pid_of() { # <pidfile> <cmdline fragment>
  local pidfile="$1" want="$2" pid
  [[ -f "$pidfile" ]] || return 1
  pid="$(tr -dc 0-9 <"$pidfile")"
  alive "$pid" || return 1
  # Read first, then match: `tr | grep -q` trips pipefail when grep exits early.
  local cmdline; cmdline="$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")" || return 1
  [[ "$cmdline" == *"$want"* ]] || return 1
  echo "$pid"
}

stop_pid() { # <name> <pidfile> <cmdline fragment>
  local pid
  if ! pid="$(pid_of "$2" "$3")"; then
    rm -f "$2"
    log "$1: not running under our pidfile, nothing to stop"
    return 0
  fi
  kill "$pid"
  for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.2; done
  if alive "$pid"; then
    kill -9 "$pid" 2>/dev/null || true
    log "$1: pid $pid ignored SIGTERM for 10 s, sent SIGKILL"
  else
    log "$1: stopped (pid $pid)"
  fi
  rm -f "$2"
}

wait_until_answers() { # <kind> <uri> <seconds> <pidfile> <cmdline fragment>
  local started=$SECONDS deadline=$((SECONDS + $3))
  while ((SECONDS < deadline)); do
    answers "$1" "$2" && return 0
    # A server that already exited will not come up; stop waiting and show why. The grace
    # period covers the moment before a daemonizing redis-server has written its pidfile.
    if ((SECONDS - started >= 2)) && ! pid_of "$4" "$5" >/dev/null; then return 1; fi
    sleep 0.3
  done
  answers "$1" "$2"
}

# ---------------------------------------------------------------------------------------------
# Installing

as_root() { if ((EUID == 0)); then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

apt_install() { # <package>
  command -v apt-get >/dev/null || return 1
  ((EUID == 0)) || command -v sudo >/dev/null || return 1
  export DEBIAN_FRONTEND=noninteractive
  # The package lists in a fresh container are often empty or stale; refresh only when needed.
  as_root apt-get install -y "$1" || { as_root apt-get update && as_root apt-get install -y "$1"; }
}

ensure_redis_server() {
  command -v redis-server >/dev/null && return 0
  log "redis: redis-server not found, installing it with apt-get"
  apt_install redis-server >&2 || true
  command -v redis-server >/dev/null && return 0
  die "REDIS_URL=$(redact "$REDIS_URL") does not answer and redis-server could not be installed.
  Install redis-server (e.g. apt-get install redis-server), or set REDIS_URL=redis://host:port to a Redis that runs."
}

version_ge() { [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | sed -n 1p)" == "$2" ]]; }

go_cmd() {
  command -v go 2>/dev/null && return 0
  # Official tarball location, often missing from PATH in non-login shells.
  [[ -x /usr/local/go/bin/go ]] && echo /usr/local/go/bin/go && return 0
  return 1
}

no_go_help() {
  die "MONGODB_URI=$(redact "$MONGODB_URI") does not answer, and building FerretDB $FERRETDB_VERSION needs Go >= $1 ($2).
  Either install Go >= $1 from https://go.dev/dl/ and rerun, or set MONGODB_URI=mongodb://host:port/switchboard
  to a MongoDB (or FerretDB) that runs."
}

ensure_go() { # prints the go binary
  local go have candidate
  if ! go="$(go_cmd)"; then
    # Debian's golang-go is only worth installing if it is new enough; bookworm ships 1.19.
    candidate="$(apt-cache policy golang-go 2>/dev/null | awk '/Candidate:/ {print $2}')"
    candidate="${candidate#*:}"; candidate="${candidate%%[~+-]*}"
    if [[ -n "$candidate" && "$candidate" != "(none)" ]] && version_ge "$candidate" "$FERRETDB_MIN_GO"; then
      log "mongo: installing golang-go $candidate with apt-get" >&2
      apt_install golang-go >&2 || true
    fi
    go="$(go_cmd)" || no_go_help "$FERRETDB_MIN_GO" "no go on PATH; apt offers ${candidate:-nothing}"
  fi
  have="$("$go" env GOVERSION)"; have="${have#go}"
  version_ge "$have" "$FERRETDB_MIN_GO" || no_go_help "$FERRETDB_MIN_GO" "found go $have"
  echo "$go"
}

ferretdb_is_built() {
  [[ -x "$FERRETDB_BIN" ]] || return 1
  [[ "$(cat "$FERRETDB_BIN.build" 2>/dev/null)" == "$FERRETDB_BUILD_ID" ]] || return 1
  local out; out="$("$FERRETDB_BIN" --version 2>/dev/null)" || return 1
  [[ "$out" == *"version: $FERRETDB_VERSION"* ]]
}

ensure_ferretdb() {
  ferretdb_is_built && return 0
  local go src need dir
  go="$(ensure_go)"
  log "mongo: building FerretDB $FERRETDB_VERSION into .tools/bin (about a minute the first time)"
  mkdir -p "$TOOLS/bin" "$TOOLS/src"
  # Not `go install ...@version`: the module zip lacks build/version/version.txt, and a binary
  # built without it panics at start. So we build from a writable copy with that file restored.
  dir="$(cd "$TOOLS" && "$go" mod download -json "$FERRETDB_MODULE@$FERRETDB_VERSION" |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);
      if(j.Error){console.error(j.Error);process.exit(1)}console.log(j.Dir)})')" ||
    die "could not download $FERRETDB_MODULE@$FERRETDB_VERSION through the Go module proxy"
  need="$(awk '$1 == "go" {print $2; exit}' "$dir/go.mod")"
  local have; have="$("$go" env GOVERSION)"; have="${have#go}"
  version_ge "$have" "${need:-$FERRETDB_MIN_GO}" || no_go_help "$need" "found go $have"

  src="$TOOLS/src/ferretdb-$FERRETDB_VERSION"
  rm -rf "$src" "$src.tmp"
  cp -R "$dir" "$src.tmp"
  chmod -R u+w "$src.tmp"   # the module cache is read-only
  echo "$FERRETDB_VERSION" >"$src.tmp/build/version/version.txt"
  # One-line fix of a 1.24.2 bug: the SQLite backend filters `{_id: …}` with the expression
  # _ferretdb_sjson->'$._id' while its unique index is on _ferretdb_sjson->"_id". SQLite only uses
  # an expression index for the identical expression, so every read, update and delete by _id
  # scanned the whole table (37 ms p50 on 10k rows). Both expressions name the same JSON key.
  local metadata="$src.tmp/internal/backends/sqlite/metadata/metadata.go"
  sed -i "s|IDColumn = DefaultColumn + \"->'\$._id'\"|IDColumn = DefaultColumn + \"->\\\\\"_id\\\\\"\"|" "$metadata"
  grep -q 'IDColumn = DefaultColumn + "->\\"_id\\""' "$metadata" ||
    die "could not apply the _id index patch to $metadata (did FerretDB's source change?)"
  # Second fix: the SQLite handler runs update and findAndModify as read, change in Go, write back,
  # with nothing between two callers: 50 concurrent {$inc: {n: 1}} on one document left n = 13, and a
  # findAndModify filtered on a version let two writers both win. MongoDB applies each single-document
  # update atomically, and our counters and optimistic locks rely on it. A mutex per collection
  # around the two read-modify-write paths restores that (SQLite serializes writes per file anyway).
  local handler="$src.tmp/internal/handler"
  cat >"$handler/switchboard_atomic.go" <<'GO'
package handler

import "sync"

// collectionLocks serializes read-modify-write commands per collection (see scripts/services.sh).
var collectionLocks sync.Map

func lockCollection(db, collection string) func() {
	mu, _ := collectionLocks.LoadOrStore(db+"."+collection, new(sync.Mutex))
	mu.(*sync.Mutex).Lock()
	return mu.(*sync.Mutex).Unlock
}
GO
  sed -i 's|^func (h \*Handler) updateDocument(ctx context.Context, params \*common.UpdateParams) (int32, int32, \*types.Array, error) {$|&\n\tdefer lockCollection(params.DB, params.Collection)()|' "$handler/msg_update.go"
  sed -i 's|^func (h \*Handler) findAndModifyDocument(ctx context.Context, params \*common.FindAndModifyParams) (\*findAndModifyResult, error) {$|&\n\tdefer lockCollection(params.DB, params.Collection)()|' "$handler/msg_findandmodify.go"
  grep -q 'defer lockCollection' "$handler/msg_update.go" && grep -q 'defer lockCollection' "$handler/msg_findandmodify.go" ||
    die "could not apply the atomic-update patch to $handler (did FerretDB's source change?)"
  # Third: the SQLite backend narrows a query by _id only when the filter is exactly {_id: …}; a
  # conditional write such as {_id, version} (our optimistic locks) scanned the whole collection
  # (8 ms at 20,000 documents instead of 1 ms). The handler re-checks every filter in Go on what the
  # backend returns, so narrowing by _id whenever the filter names one is safe.
  local collection="$src.tmp/internal/backends/sqlite/collection.go"
  sed -i '0,/if params.Filter.Len() == 1 {/s//if params.Filter.Has("_id") {/' "$collection"
  grep -q 'if params.Filter.Has("_id") {' "$collection" ||
    die "could not apply the _id pushdown patch to $collection (did FerretDB's source change?)"
  # Fourth: an update holds its query's connection while it asks the pool (100 per database) for
  # another to write with; under a burst of load (100 new calls a second) every connection was held
  # that way or by open cursors, and the server stopped answering. A deeper pool leaves room.
  local opendb="$src.tmp/internal/backends/sqlite/metadata/pool/opendb.go"
  sed -i 's/db.SetMaxOpenConns(100)/db.SetMaxOpenConns(1000)/' "$opendb"
  grep -q 'db.SetMaxOpenConns(1000)' "$opendb" || die "could not apply the pool-size patch to $opendb (did FerretDB's source change?)"
  mv "$src.tmp" "$src"
  # GOTOOLCHAIN=local: use the Go we just checked instead of silently fetching another toolchain.
  (cd "$src" && GOTOOLCHAIN=local GOFLAGS=-mod=mod "$go" build -o "$FERRETDB_BIN.tmp" ./cmd/ferretdb) >&2 ||
    die "building FerretDB failed (see the go output above)"
  mv "$FERRETDB_BIN.tmp" "$FERRETDB_BIN"
  echo "$FERRETDB_BUILD_ID" >"$FERRETDB_BIN.build"
  # The copy holds FerretDB's own *.test.js files, which jest (rootDir = repo) would collect and
  # fail on. The module cache keeps the pristine source, so a rebuild costs nothing extra.
  rm -rf "$src"
  ferretdb_is_built || die "$FERRETDB_BIN was built but does not report $FERRETDB_VERSION"
}

# ---------------------------------------------------------------------------------------------
# Starting

SUMMARY=()

start_redis() {
  local pid port
  if ((REDIS_ANSWERS)) && is_sentinel_url "$REDIS_URL"; then
    SUMMARY+=("redis  $(redact "$REDIS_URL")  answers through Sentinel (external, left alone)")
    return 0
  fi
  if ((REDIS_ANSWERS)); then
    if pid="$(pid_of "$REDIS_PID" redis-server)"; then
      SUMMARY+=("redis  $(redact "$REDIS_URL")  already running (ours, pid $pid, data .data/redis)")
      # Started by an older version of this script (no persistence): say so, never restart it here.
      if command -v redis-cli >/dev/null &&
        [[ "$(timeout 2 redis-cli -u "$REDIS_URL" config get appendonly 2>/dev/null | sed -n 2p)" == no ]]; then
        SUMMARY+=("       without AOF: a crash loses its queues and timers. Turn it on live with: redis-cli -u $(redact "$REDIS_URL") config set appendonly yes")
      fi
    else
      SUMMARY+=("redis  $(redact "$REDIS_URL")  already running (not started by this script, left alone)")
    fi
    return 0
  fi
  is_local_default "$REDIS_URL" 6379 ||
    die "REDIS_URL=$(redact "$REDIS_URL") does not answer. Start that Redis, or unset REDIS_URL to use a local one on 127.0.0.1:6379."
  if pid="$(pid_of "$REDIS_PID" redis-server)"; then
    die "redis: our redis-server (pid $pid) is running but $REDIS_URL does not answer; see $REDIS_LOG, or run: bash scripts/services.sh stop"
  fi
  ensure_redis_server
  # Installing the Debian package may have started a system Redis on the same port; use it then.
  if answers redis "$REDIS_URL"; then
    SUMMARY+=("redis  $(redact "$REDIS_URL")  already running (system service, left alone)")
    return 0
  fi
  port="$(uri_port "$REDIS_URL" 6379)"
  mkdir -p "$REDIS_DIR"
  # Redis holds the waiting queues, reservations and every BullMQ timer (offer timeouts, SLA
  # warnings, surveys, sends): a Redis that restarts empty loses waiting customers. So:
  # - AOF, fsync once a second: a crash loses at most about a second of writes. On start Redis
  #   loads the AOF (.data/redis/appendonlydir), whose base is itself an RDB image.
  # - No RDB snapshots (`save ""`): with AOF on Redis never loads them, so Debian's default
  #   snapshots (every 60 s under load) would only add a fork and a full copy of the data to disk.
  # - noeviction: BullMQ requires it; an evicted job key is a timer or a send that never happens,
  #   while a full Redis under noeviction refuses writes loudly instead.
  redis-server --bind 127.0.0.1 --port "$port" --daemonize yes \
    --pidfile "$REDIS_PID" --dir "$REDIS_DIR" --logfile "$REDIS_LOG" \
    --appendonly yes --appendfsync everysec --save "" --maxmemory-policy noeviction >/dev/null
  if ! wait_until_answers redis "$REDIS_URL" 10 "$REDIS_PID" redis-server; then
    tail -n 20 "$REDIS_LOG" >&2 2>/dev/null || true
    die "redis-server exited or did not answer on 127.0.0.1:$port within 10 s (log above: $REDIS_LOG)"
  fi
  pid="$(pid_of "$REDIS_PID" redis-server || echo '?')"
  SUMMARY+=("redis  $(redact "$REDIS_URL")  just started (pid $pid, data .data/redis, log .data/redis/redis.log)")
}

start_mongo() {
  local pid port
  if ((MONGO_ANSWERS)) && pid="$(pid_of "$FERRETDB_PID" ferretdb)" &&
    [[ "$(cat "$FERRETDB_DIR/ferretdb.build" 2>/dev/null)" != "$FERRETDB_RUN_ID" ]]; then
    log "mongo: our FerretDB (pid $pid) runs an older build or other settings; restarting it as $FERRETDB_RUN_ID"
    ensure_ferretdb   # build first, so the database is down only for the restart itself
    stop_pid mongo "$FERRETDB_PID" ferretdb
    MONGO_ANSWERS=0
  fi
  if ((MONGO_ANSWERS)); then
    if pid="$(pid_of "$FERRETDB_PID" ferretdb)"; then
      SUMMARY+=("mongo  $(redact "$MONGODB_URI")  already running (ours: FerretDB, pid $pid, data .data/ferretdb)")
    else
      SUMMARY+=("mongo  $(redact "$MONGODB_URI")  already running (not started by this script, left alone)")
    fi
    return 0
  fi
  is_local_default "$MONGODB_URI" 27017 ||
    die "MONGODB_URI=$(redact "$MONGODB_URI") does not answer. Start that server, or unset MONGODB_URI to use a local FerretDB on 127.0.0.1:27017."
  if pid="$(pid_of "$FERRETDB_PID" ferretdb)"; then
    # Possibly still opening its SQLite files; give it the normal start window before giving up.
    if ! wait_until_answers mongo "$MONGODB_URI" 20 "$FERRETDB_PID" ferretdb; then
      die "mongo: our FerretDB (pid $pid) is running but does not answer; see $FERRETDB_LOG, or run: bash scripts/services.sh stop"
    fi
    SUMMARY+=("mongo  $(redact "$MONGODB_URI")  already running (ours: FerretDB, pid $pid, data .data/ferretdb)")
    return 0
  fi
  ensure_ferretdb
  port="$(uri_port "$MONGODB_URI" 27017)"
  mkdir -p "$FERRETDB_DIR" "$FERRETDB_STATE"
  # setsid + nohup: FerretDB must outlive this script and the npm process that ran it. The inner
  # shell writes its own pid before exec, so the pidfile holds FerretDB's pid, not a wrapper's.
  echo "$FERRETDB_RUN_ID" >"$FERRETDB_DIR/ferretdb.build"
  DO_NOT_TRACK=1 setsid nohup bash -c 'echo $$ >"$0"; exec "$@"' "$FERRETDB_PID" \
    "$FERRETDB_BIN" --handler=sqlite --sqlite-url="file:$FERRETDB_DIR/?_pragma=synchronous($FERRETDB_SQLITE_SYNCHRONOUS)" \
    --listen-addr="127.0.0.1:$port" --state-dir="$FERRETDB_STATE" \
    --debug-addr="$FERRETDB_DEBUG_ADDR" --telemetry=disable --log-level=warn \
    >>"$FERRETDB_LOG" 2>&1 </dev/null &
  disown 2>/dev/null || true
  sleep 0.2 # let the wrapper write the pidfile before we check it
  if ! wait_until_answers mongo "$MONGODB_URI" 20 "$FERRETDB_PID" ferretdb; then
    echo "--- last lines of $FERRETDB_LOG" >&2
    tail -n 30 "$FERRETDB_LOG" >&2 || true
    die "FerretDB exited or did not answer on 127.0.0.1:$port within 20 s (log above: $FERRETDB_LOG)"
  fi
  pid="$(pid_of "$FERRETDB_PID" ferretdb || echo '?')"
  SUMMARY+=("mongo  $(redact "$MONGODB_URI")  just started (FerretDB $FERRETDB_VERSION, pid $pid, data .data/ferretdb, log .data/ferretdb/ferretdb.log)")
}

# Fails before any slow work if a configured, non-local store is down, so a typo in MONGODB_URI
# is reported in two seconds rather than after a FerretDB build. A refused Mongo ping costs the
# driver's full 2 s, so the answers are kept for the start functions.
REDIS_ANSWERS=0
MONGO_ANSWERS=0
preflight() {
  if answers redis "$REDIS_URL"; then REDIS_ANSWERS=1; fi
  if answers mongo "$MONGODB_URI"; then MONGO_ANSWERS=1; fi
  ((REDIS_ANSWERS)) || ! is_sentinel_url "$REDIS_URL" ||
    die "REDIS_URL=$(redact "$REDIS_URL"): no Sentinel there named a master that answers. Check the Sentinel hosts, the master name and sentinel_password (PING_VERBOSE=1 node scripts/ping-stores.js redis \"\$REDIS_URL\" says why)."
  ((REDIS_ANSWERS)) || is_local_default "$REDIS_URL" 6379 ||
    die "REDIS_URL=$(redact "$REDIS_URL") does not answer. Start that Redis, or unset REDIS_URL to use a local one on 127.0.0.1:6379."
  ((MONGO_ANSWERS)) || is_local_default "$MONGODB_URI" 27017 ||
    die "MONGODB_URI=$(redact "$MONGODB_URI") does not answer. Start that server, or unset MONGODB_URI to use a local FerretDB on 127.0.0.1:27017."
}

cmd_start() {
  preflight
  start_redis
  start_mongo
  # The failure tests (tests/reliability) and `npm run chaos` kill and restart FerretDBs of their
  # own, started from this binary, even when MONGODB_URI points at a server that already answers.
  ensure_ferretdb
  printf '%s\n' "${SUMMARY[@]}"
}

cmd_stop() {
  stop_pid mongo "$FERRETDB_PID" ferretdb
  stop_pid redis "$REDIS_PID" redis-server
}

cmd_status() {
  local pid state owner rc=0
  for svc in "mongo|$MONGODB_URI|$FERRETDB_PID|ferretdb" "redis|$REDIS_URL|$REDIS_PID|redis-server"; do
    IFS='|' read -r name uri pidfile frag <<<"$svc"
    if answers "$name" "$uri"; then state=answers; else state="does not answer"; rc=1; fi
    if [[ "$name" == redis ]] && is_sentinel_url "$uri"; then owner="through Sentinel, not started by this script"
    elif pid="$(pid_of "$pidfile" "$frag")"; then owner="ours, pid $pid"; else owner="not started by this script"; fi
    echo "$name  $(redact "$uri")  $state ($owner)"
  done
  return "$rc"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) echo "usage: bash scripts/services.sh start|stop|status" >&2; exit 2 ;;
esac
