#!/usr/bin/env bash
# Follows README.md literally: runs its commands in order against fresh nodes, so the README
# cannot drift from what the node does.
#   bash scripts/readme-test.sh [README]     (default: README.md at the repository root)
# 1. cargo build --release
# 2. makes a scratch working directory that links to the repository's files but has no
#    data/ of its own, so the README's `data/5000`, `data/5001`, ... are fresh, and the
#    user's own data/ is never touched
# 3. extracts the commands with scripts/readme-commands.py (its header is the convention:
#    ```sh blocks and curl examples in table rows, in order; `<!-- readme-test: skip -->` or
#    `<!-- readme-test: fails -->` before a block or table; node starts run in the background)
# 4. runs them one by one in one bash shell (variables set by one command are seen by the
#    next), with `cargo run --release --` replaced by the release binary and ports 5000-5009
#    moved to a block of free ports (README_TEST_PORT_BASE=5000 keeps them as written)
# curl has curl -f semantics here: an HTTP status of 400 or more, or a JSON answer whose
# top level is {"error": ...}, makes the command fail. A command that prints more than 2,000
# bytes fails too (newman's reports excepted): every answer shown to a person is brief. A command fails the test when it fails
# (or, in a `fails` block, when it succeeds); the script stops at the first such command,
# shows the node logs, and exits 1. Every node it started is stopped on exit.
# Needs: cargo, python3, curl; Node.js + npm for the README's Postman step (it runs
# scripts/newman.sh, which installs the pinned newman into scripts/.newman/ the first time).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RT_README=$(cd "$(dirname "${1:-$MC_ROOT/README.md}")" && pwd)/$(basename "${1:-README.md}")
RT_NAME=$(basename "$RT_README")
RT_BIN=$MC_BIN
RT_WORK="$MC_TMP/readme"
RT_LOGS="$MC_TMP/readme-logs"
declare -A RT_NODE_PID=()
RT_COUNT=0
# Most bytes one README command may print: an answer a person reads fits a screen or two.
RT_MAX_ANSWER=2000

mc_build

# The scratch working directory: the repository's entries, without data/.
mkdir -p "$RT_WORK" "$RT_LOGS"
for entry in "$MC_ROOT"/* "$MC_ROOT"/.cargo; do
  name=$(basename "$entry")
  [ -e "$entry" ] && [ "$name" != data ] && ln -s "$entry" "$RT_WORK/$name"
done

# Ten free ports in a row for the README's 5000-5009.
if [ -n "${README_TEST_PORT_BASE:-}" ]; then
  RT_PORT_BASE=$README_TEST_PORT_BASE
else
  RT_PORT_BASE=$(python3 -c '
import socket
for base in range(15000, 60000, 10):
    try:
        held = []
        for port in range(base, base + 10):
            s = socket.socket()
            s.bind(("127.0.0.1", port))
            held.append(s)
        print(base)
        break
    except OSError:
        pass
    finally:
        for s in held:
            s.close()
')
fi

say "Following $(basename "$RT_README") literally (ports 5000-5009 are $RT_PORT_BASE-$((RT_PORT_BASE + 9)); working directory $RT_WORK)"
python3 "$MC_ROOT/scripts/readme-commands.py" --emit-bash --port-base "$RT_PORT_BASE" "$RT_README" >"$MC_TMP/steps.sh"

# curl with curl -f semantics (the README's commands see this function, not the program).
curl() {
  local _rt_body _rt_status _rt_rc
  _rt_body=$(mktemp "$MC_TMP/curl.XXXXXX")
  _rt_status=$(command curl -sS --max-time 120 -o "$_rt_body" -w '%{http_code}' "$@")
  _rt_rc=$?
  cat "$_rt_body"
  if [ "$_rt_rc" -ne 0 ]; then
    rm -f "$_rt_body"
    return "$_rt_rc"
  fi
  if [ "${_rt_status:-0}" -ge 400 ]; then
    printf '\n[readme-test] HTTP %s\n' "$_rt_status" >&2
    rm -f "$_rt_body"
    return 22
  fi
  if head -c 200 "$_rt_body" | grep -qE '^[[:space:]]*\{[[:space:]]*"error"[[:space:]]*:'; then
    printf '\n[readme-test] HTTP %s with an {"error": ...} answer\n' "$_rt_status" >&2
    rm -f "$_rt_body"
    return 22
  fi
  rm -f "$_rt_body"
  return 0
}

rt_header() { # LINE MODE SHOWN
  RT_COUNT=$((RT_COUNT + 1))
  local what=""
  [ "$2" = fails ] && what=" (must fail)"
  printf '\n%s%s:%s%s%s\n$ %s\n' "$MC_B" "$RT_NAME" "$1" "$what" "$MC_N" "$3"
}

rt_fail() { # LINE MESSAGE
  printf '\n%sFAILED%s %s:%s: %s\n' "$MC_R" "$MC_N" "$RT_NAME" "$1" "$2" >&2
  local port
  for port in "${!RT_NODE_PID[@]}"; do
    echo "--- last lines of the node on port $port ($RT_LOGS/node-$port.*.err):" >&2
    tail -n 15 "$(ls -t "$RT_LOGS"/node-"$port".*.err | head -n 1)" >&2 || true
  done
  exit 1
}

rt_verdict() { # LINE MODE RC
  if [ "$2" = fails ] && [ "$3" -eq 0 ]; then
    rt_fail "$1" "the README shows this command failing, but it succeeded"
  elif [ "$2" != fails ] && [ "$3" -ne 0 ]; then
    rt_fail "$1" "the command failed (exit status $3)"
  fi
  printf '%sok%s\n' "$MC_G" "$MC_N"
}

# rt_cmd LINE MODE SHOWN RUN: one command, evaluated in this shell (so the variables it
# sets stay); what it prints is kept and shown after it, and must fit in RT_MAX_ANSWER bytes
# (newman's run reports excepted: a report, not an answer).
rt_cmd() {
  rt_header "$1" "$2" "$3"
  local _rt_line=$1 _rt_mode=$2 _rt_rc _rt_out=$MC_TMP/printed _rt_size
  set +eu
  eval "$4" </dev/null >"$_rt_out"
  _rt_rc=$?
  set -eu
  cat "$_rt_out"
  _rt_size=$(wc -c <"$_rt_out")
  echo
  if [ "$_rt_size" -gt "$RT_MAX_ANSWER" ] && [[ "$3" != *scripts/newman.sh* ]]; then
    rt_fail "$_rt_line" "the command printed $_rt_size bytes, more than a person reads ($RT_MAX_ANSWER); ask for ?brief=1 or less"
  fi
  rt_verdict "$_rt_line" "$_rt_mode" "$_rt_rc"
}

# rt_stop_port PORT: stops the node this script started on PORT, as Ctrl-C would.
rt_stop_port() {
  local pid=${RT_NODE_PID[$1]:-}
  [ -n "$pid" ] || return 0
  unset "RT_NODE_PID[$1]"
  kill -INT "$pid" 2>/dev/null || true
  local waited=0
  while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 100 ]; do
    sleep 0.1
    waited=$((waited + 1))
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  note "(stopped the node on port $1 first, as Ctrl-C in its terminal would)"
}

# rt_node LINE MODE PORT SHOWN -- ARGV...: a node start, in the background.
rt_node() {
  local line=$1 mode=$2 port=$3 shown=$4
  shift 5
  rt_header "$line" "$mode" "$shown"
  rt_stop_port "$port"
  local out="$RT_LOGS/node-$port.$RT_COUNT.out"
  (cd "$RT_WORK" && exec "$@" </dev/null >"$out" 2>"$out.err") &
  local pid=$! deadline=$((SECONDS + 30)) first
  mc_track "$pid"
  while :; do
    first=$(head -n 1 "$out" 2>/dev/null || true)
    if [[ "$first" =~ ^listening\ on\ (http://[^[:space:]]+) ]]; then
      note "${BASH_REMATCH[0]} (pid $pid)"
      RT_NODE_PID[$port]=$pid
      if [ "$mode" = fails ]; then
        rt_fail "$line" "the README shows this node refusing to start, but it started"
      fi
      printf '%sok%s\n' "$MC_G" "$MC_N"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      local rc=0
      wait "$pid" || rc=$?
      cat "$out" "$out.err"
      rt_verdict "$line" "$mode" "$rc"
      return 0
    fi
    [ "$SECONDS" -lt "$deadline" ] || rt_fail "$line" "the node printed no 'listening on' line within 30 s"
    sleep 0.05
  done
}

cd "$RT_WORK"
source "$MC_TMP/steps.sh"
say "All $RT_COUNT commands of $(basename "$RT_README") ran as documented"
