#!/usr/bin/env bash
# Fuzzes a fresh node with schemathesis against scripts/openapi.yaml: thousands of requests
# generated from the document (valid ones must be accepted, invalid ones refused, every
# answer must match its documented status, content type and schema, no 5xx).
#   bash scripts/schemathesis-test.sh
# 1. cargo build --release
# 2. installs schemathesis (pinned: SCHEMATHESIS_VERSION below) into the git-ignored
#    scripts/.venv the first time (python3 -m venv, then pip)
# 3. node A, fresh (difficulty 8, --peer-timeout-ms 300): every operation except
#    /nodes/resolve and /getblocks, with the settings of scripts/schemathesis.toml
# 4. node B, fresh, whose peers are A and a port where nothing listens: /nodes/resolve and
#    /getblocks (on A they would call every random address the fuzzing registered)
# The exit status is non-zero when schemathesis reports any failure.
# SCHEMATHESIS_SEED (default 1) and SCHEMATHESIS_MAX_EXAMPLES (default 40 per operation)
# change the run; the seed makes a run repeatable.
# Needs: cargo, python3 (3.9 or later, with venv), curl.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SCHEMATHESIS_VERSION=4.32.5
VENV="$MC_ROOT/scripts/.venv"
ST="$VENV/bin/schemathesis"
SEED=${SCHEMATHESIS_SEED:-1}
MAX_EXAMPLES=${SCHEMATHESIS_MAX_EXAMPLES:-40}

mc_build

say "Installing schemathesis $SCHEMATHESIS_VERSION into scripts/.venv (once)"
if [ -x "$ST" ] && [ "$("$ST" --version 2>/dev/null)" = "schemathesis, version $SCHEMATHESIS_VERSION" ]; then
  note "schemathesis $SCHEMATHESIS_VERSION is already there"
else
  python3 -m venv "$VENV" || { echo "python3 -m venv failed (on Debian/Ubuntu: apt-get install python3-venv)" >&2; exit 1; }
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
  [ "$("$ST" --version)" = "schemathesis, version $SCHEMATHESIS_VERSION" ] ||
    { echo "schemathesis $SCHEMATHESIS_VERSION did not install" >&2; exit 1; }
fi

# run_schemathesis URL [filters...]: one run against a node, from a scratch directory (so
# nothing is written into the repository).
run_schemathesis() {
  local url=$1
  shift
  (cd "$MC_TMP" && "$ST" --config-file "$MC_ROOT/scripts/schemathesis.toml" run \
    "$MC_ROOT/scripts/openapi.yaml" --url "$url" \
    --seed "$SEED" --max-examples "$MAX_EXAMPLES" --workers 1 --request-timeout 30 \
    --no-color "$@")
}

FAILED=0

say "Node A: every route that takes input, fuzzed (seed $SEED, at most $MAX_EXAMPLES cases per operation)"
mc_start A --difficulty 8 --peer-timeout-ms 300
note "A is $URL_A"
run_schemathesis "$URL_A" --exclude-path /nodes/resolve --exclude-path /getblocks || FAILED=1
note "(a \"schema validation mismatch\" warning for POST /transactions/new is expected: the"
note "generated senders own no coins, so most payments are refused for their balance)"

say "Node B: /nodes/resolve and /getblocks with one live peer and one dead one"
DEAD_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mc_start B --difficulty 8 --peer-timeout-ms 300 --peer "$URL_A" --peer "127.0.0.1:$DEAD_PORT"
note "B is $URL_B"
run_schemathesis "$URL_B" --include-path /nodes/resolve --include-path /getblocks || FAILED=1

if [ "$FAILED" -ne 0 ]; then
  say "FAILED: the node and scripts/openapi.yaml disagree (see above)"
  for n in A B; do
    log="LOG_$n"
    echo "--- last lines of node $n's log (${!log}):" >&2
    tail -n 20 "${!log}" >&2 || true
  done
  exit 1
fi
say "schemathesis: 0 failures"
