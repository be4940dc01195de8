# Helpers shared by the scripts in scripts/ (sourced, not run):
#   mc_demo_args "$@"        the demos' options: --step (show each request as a curl
#                            command, then its answer, and wait for Enter) and --keep
#                            (leave the nodes running at the end, print how to stop them)
#   mc_build                 cargo build --release (quick when nothing changed)
#   mc_start NAME [FLAGS]    start a node on a free port (--port 0) with a fresh data
#                            directory; sets URL_<NAME>, PID_<NAME>, DIR_<NAME>, LOG_<NAME>
#   mc_start_in NAME DIR [FLAGS]   the same on a given data directory
#   mc_stop NAME             stop that node (SIGTERM, SIGKILL after 10 s) and wait for it
#   mc_track PID             stop this process too on exit
#   mc_wait_listening OUT PID NAME  wait (30 s at most) for "listening on URL" as the first
#                            line of OUT and print URL
#   mc_call METHOD URL [BODY]       HTTP call; sets MC_STATUS and MC_BODY
#   mc_json JSON EXPR        a Python expression over the parsed JSON `d`
#   mc_json_equal A B        True when two JSON texts hold the same value
#   mc_show JSON             the JSON, indented, for narration
#   mc_sha256 FILE           the file's SHA-256
#   mc_expect WHAT OK        stop the script (exit 1) with WHAT unless OK is yes/true/True
#   mc_expect_status CODE WHAT      the same for MC_STATUS
#   say / note               narration
# Every process started here is stopped, and every temporary directory removed, on exit.
# Needs bash, curl and python3 (no jq).

MC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The binary cargo builds (honours CARGO_TARGET_DIR, relative to the repository root).
MC_TARGET=${CARGO_TARGET_DIR:-target}
[[ "$MC_TARGET" = /* ]] || MC_TARGET="$MC_ROOT/$MC_TARGET"
MC_BIN="$MC_TARGET/release/minichain"
MC_TMP=$(mktemp -d "${TMPDIR:-/tmp}/minichain-scripts.XXXXXX")
MC_PIDS=()
MC_NODES=()
MC_STATUS=""
MC_BODY=""
MC_STEP=0
MC_KEEP=0

# The last words of a demo: what happens to its nodes now (kept with --keep, else stopped).
mc_ending() {
  if [ "${MC_KEEP:-0}" = 1 ]; then
    echo "The nodes keep running (--keep)."
  else
    echo "Stopping the nodes."
  fi
}

# With --keep: lists the nodes still running, removes them from MC_PIDS, and says how to
# stop them.
mc_keep_nodes() {
  local name pidvar urlvar dirvar logvar kept=() pid rest=()
  for name in "${MC_NODES[@]}"; do
    pidvar="PID_$name" urlvar="URL_$name" dirvar="DIR_$name" logvar="LOG_$name"
    if kill -0 "${!pidvar}" 2>/dev/null; then
      kept+=("${!pidvar}")
      printf '   node %s: %s (pid %s, data %s, log %s)\n' "$name" "${!urlvar}" "${!pidvar}" "${!dirvar}" "${!logvar}"
    fi
  done
  [ ${#kept[@]} -gt 0 ] || return 0
  for pid in "${MC_PIDS[@]}"; do
    [[ " ${kept[*]} " == *" $pid "* ]] || rest+=("$pid")
  done
  MC_PIDS=("${rest[@]}")
  printf '\n%sThe nodes are still running (--keep).%s Stop them and remove their data with:\n' "$MC_B" "$MC_N"
  printf '   kill %s; rm -rf %s\n' "${kept[*]}" "$MC_TMP"
}

mc_cleanup() {
  local pid keep=0
  if [ "$MC_KEEP" = 1 ] && [ ${#MC_NODES[@]} -gt 0 ]; then
    mc_keep_nodes
    keep=1
  fi
  for pid in "${MC_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${MC_PIDS[@]}"; do
    local waited=0
    while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 100 ]; do
      sleep 0.1
      waited=$((waited + 1))
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  MC_PIDS=()
  [ "$keep" = 1 ] || rm -rf "$MC_TMP"
}
trap mc_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Plain-words narration (bold and colours only on a terminal).
if [ -t 1 ]; then MC_B=$'\033[1m' MC_G=$'\033[32m' MC_R=$'\033[31m' MC_N=$'\033[0m'; else MC_B="" MC_G="" MC_R="" MC_N=""; fi
say() { printf '\n%s== %s%s\n' "$MC_B" "$*" "$MC_N"; }
note() { printf '   %s\n' "$*"; }

# mc_demo_args "$@": reads the demos' options; --help prints the script's header.
mc_demo_args() {
  local arg
  for arg in "$@"; do
    case $arg in
      --step) MC_STEP=1 ;;
      --keep) MC_KEEP=1 ;;
      -h | --help)
        sed -n '2,/^set -euo pipefail/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
        exit 0
        ;;
      *)
        echo "$(basename "$0"): unknown option $arg (options: --step, --keep, --help)" >&2
        exit 2
        ;;
    esac
  done
}

# mc_quote TEXT: TEXT as one single-quoted shell word.
mc_quote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

# With --step: the request as a curl command to copy (before it is sent).
mc_step_request() {
  [ "$MC_STEP" = 1 ] || return 0
  local line="curl -s"
  [ "$1" = GET ] || line+=" -X $1"
  line+=" $(mc_quote "$2")"
  [ $# -ge 3 ] && line+=" -H 'Content-Type: application/json' -d $(mc_quote "$3")"
  printf '\n   %s$ %s%s\n' "$MC_B" "$line" "$MC_N"
}

# With --step: the answer, then a pause until Enter (no pause when stdin is not a terminal
# that answers, e.g. at end of input).
mc_step_answer() {
  [ "$MC_STEP" = 1 ] || return 0
  printf '   HTTP %s\n' "$MC_STATUS"
  if ! mc_show "$MC_BODY" 2>/dev/null; then printf '   | %s\n' "$MC_BODY"; fi
  printf '   [Enter] to go on '
  read -r _ || true
  echo
}

mc_build() {
  say "Building the node (cargo build --release)"
  (cd "$MC_ROOT" && cargo build --release --quiet) || { echo "build failed" >&2; exit 1; }
}

# Remembers a process started by the caller so it is stopped on exit.
mc_track() { MC_PIDS+=("$1"); }

# Reads the first stdout line "listening on http://HOST:PORT" of a process, within a
# deadline. Args: output file, pid, name. Prints the URL.
mc_wait_listening() {
  local out=$1 pid=$2 name=$3 deadline=$((SECONDS + 30)) line
  while [ "$SECONDS" -lt "$deadline" ]; do
    line=$(head -n 1 "$out" 2>/dev/null || true)
    if [[ "$line" =~ ^listening\ on\ (http://[^[:space:]]+) ]]; then
      printf '%s\n' "${BASH_REMATCH[1]}"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$name exited before listening; its output:" >&2
      cat "$out" "$out.err" 2>/dev/null >&2 || true
      return 1
    fi
    sleep 0.05
  done
  echo "$name did not print 'listening on ...' within 30 s; its output:" >&2
  cat "$out" "$out.err" 2>/dev/null >&2 || true
  return 1
}

# mc_start NAME [extra flags...]: a node on a free port, fresh data dir.
mc_start() {
  local name=$1
  shift
  local dir="$MC_TMP/data-$name"
  mc_start_in "$name" "$dir" "$@"
}

# mc_start_in NAME DATA_DIR [extra flags...]: a node on a free port on that data dir.
mc_start_in() {
  local name=$1 dir=$2
  shift 2
  local out="$MC_TMP/$name.$RANDOM.out"
  "$MC_BIN" --port "${MC_PORT:-0}" --data-dir "$dir" "$@" >"$out" 2>"$out.err" &
  local pid=$!
  mc_track "$pid"
  [[ " ${MC_NODES[*]} " == *" $name "* ]] || MC_NODES+=("$name")
  local url
  url=$(mc_wait_listening "$out" "$pid" "node $name") || exit 1
  printf -v "URL_$name" '%s' "$url"
  printf -v "PID_$name" '%s' "$pid"
  printf -v "DIR_$name" '%s' "$dir"
  printf -v "LOG_$name" '%s' "$out.err"
}

# mc_free_port: a port nobody listens on now (for a node that must know its URL before
# it starts, e.g. to mine to it: MC_PORT=$(mc_free_port) mc_start ...).
mc_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# mc_stop NAME: stops the node NAME and waits until it has exited.
mc_stop() {
  local pidvar="PID_$1"
  local pid=${!pidvar}
  kill -TERM "$pid" 2>/dev/null || true
  local waited=0
  while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 100 ]; do
    sleep 0.1
    waited=$((waited + 1))
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# mc_call METHOD URL [BODY]
mc_call() {
  local method=$1 url=$2 out
  mc_step_request "$@"
  if [ $# -ge 3 ]; then
    out=$(curl -sS -m 60 -X "$method" -H 'Content-Type: application/json' --data-binary "$3" \
      -w '\n%{http_code}' "$url") || { echo "curl $method $url failed" >&2; exit 1; }
  else
    out=$(curl -sS -m 60 -X "$method" -w '\n%{http_code}' "$url") ||
      { echo "curl $method $url failed" >&2; exit 1; }
  fi
  MC_STATUS=${out##*$'\n'}
  MC_BODY=${out%$'\n'*}
  mc_step_answer
}

# mc_json JSON EXPR: prints EXPR evaluated with d = the parsed JSON (strings bare, the
# rest as JSON).
mc_json() {
  python3 -c '
import json, sys
d = json.loads(sys.argv[1])
v = eval(sys.argv[2], {"json": json}, {"d": d})
print(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))
' "$1" "$2"
}

# mc_json_equal JSON1 JSON2: prints True when both parse to the same value.
mc_json_equal() {
  python3 -c 'import json, sys; print(json.loads(sys.argv[1]) == json.loads(sys.argv[2]))' "$1" "$2"
}

# mc_sha256 FILE: the file's SHA-256 in hex.
mc_sha256() {
  python3 -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$1"
}

# mc_show JSON: the whole answer, indented, for narration.
mc_show() {
  python3 -c '
import json, sys
print("\n".join("   | " + l for l in json.dumps(json.loads(sys.argv[1]), indent=2, ensure_ascii=False).splitlines()))
' "$1"
}

# mc_expect DESCRIPTION CONDITION: CONDITION is yes/true/True or the script stops with 1.
mc_expect() {
  if [ "$2" = "yes" ] || [ "$2" = "true" ] || [ "$2" = "True" ]; then
    printf '   %sok%s  %s\n' "$MC_G" "$MC_N" "$1"
  else
    printf '   %sFAILED%s  %s\n' "$MC_R" "$MC_N" "$1" >&2
    exit 1
  fi
}

# mc_expect_status WANT WHAT: checks MC_STATUS after mc_call.
mc_expect_status() {
  if [ "$MC_STATUS" = "$1" ]; then
    printf '   %sok%s  %s answered %s\n' "$MC_G" "$MC_N" "$2" "$MC_STATUS"
  else
    printf '   %sFAILED%s  %s answered %s, expected %s: %s\n' "$MC_R" "$MC_N" "$2" "$MC_STATUS" "$1" "$MC_BODY" >&2
    exit 1
  fi
}
