#!/usr/bin/env bash
# Tests the explorer page (GET / from a browser) in real headless Chromium.
#   bash scripts/browser-test.sh
# 1. installs Debian's chromium with apt-get if it is missing (set CHROMIUM to use another
#    binary); no browser is downloaded by the driver
# 2. installs puppeteer-core (pinned: PUPPETEER_VERSION below) into scripts/.browser/
#    (git-ignored) if it is not there yet
# 3. cargo build (debug: difficulty 8 needs no speed), then starts two fresh nodes on free
#    ports, difficulty 8, not peers of each other (with --no-relay where the binary has it,
#    so the fork stays put until the page's Resolve button is pressed)
# 4. runs scripts/browser-test.cjs: the page loads with no console error; the tip shown
#    equals /chain's; Mine adds a block card; a payment shows in the pool; node B's longer
#    fork makes the fork tree show two branches, then one after Resolve; the tamper view
#    marks the edited block and every later one invalid; phone width; the page notices a
#    stopped node; the Owner token field (sessionStorage only, sent to this node alone);
#    addresses labelled (this node's wallet, B's wallet, names); an address's balance
#    history equals what the chain says; the note "Your block #2 was orphaned" when B's
#    fork replaces the block A's Mine button made, and for two blocks ("blocks … were",
#    and the fork tree's "1 orphaned block … was" / "2 orphaned blocks … were")
#    the search box (SPEC §5b): a payment pooled, then mined with its merkle proof checked
#    in the browser (and caught when the proof is altered on its way), a block by index
#    and by hash, an address's payments from /history
# 5. owner actions (SPEC §5a): a page on another origin (a small server inside the .cjs, on
#    another 127.0.0.1 port) opened in the same Chromium tries to spend from and wipe node A
#    (no-cors fetches, <img>, an auto-submitted form): A's chain, pool, wallet and peers stay
#    as they were and A's log shows each attempt refused with 403
# 6. a third node C bound to --host 0.0.0.0, its page opened from this machine's LAN
#    address: Mine and a wallet payment without a token answer 403 and the page says where
#    the token is; with the token from C's owner.token pasted they work (skipped, with a
#    note, when the machine has no non-loopback IPv4 address)
# Screenshots of the main views go to scripts/.screenshots/ (git-ignored).
# Every node it started is stopped and every temporary directory removed on exit.
# Needs: cargo, node + npm, python3, curl; root (or chromium already installed) for apt-get.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PUPPETEER_VERSION=24.43.1
BROWSER_DIR="$MC_ROOT/scripts/.browser"
SCREENSHOTS="$MC_ROOT/scripts/.screenshots"

say "Chromium (Debian's package)"
CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
if [ -z "$CHROMIUM" ]; then
  command -v apt-get >/dev/null || { echo "chromium is missing and there is no apt-get; set CHROMIUM=/path/to/chromium" >&2; exit 1; }
  note "installing chromium with apt-get"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  CHROMIUM=$(command -v chromium)
fi
note "$("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"

say "puppeteer-core $PUPPETEER_VERSION in scripts/.browser (once)"
installed=$(node -p "require('$BROWSER_DIR/node_modules/puppeteer-core/package.json').version" 2>/dev/null || true)
if [ "$installed" = "$PUPPETEER_VERSION" ]; then
  note "already there"
else
  command -v npm >/dev/null || { echo "npm is needed to install puppeteer-core (install Node.js 18 or later)" >&2; exit 1; }
  mkdir -p "$BROWSER_DIR"
  PUPPETEER_SKIP_DOWNLOAD=1 npm install --prefix "$BROWSER_DIR" --no-audit --no-fund --loglevel=error \
    --save-exact "puppeteer-core@$PUPPETEER_VERSION"
fi

say "Building the node (cargo build)"
(cd "$MC_ROOT" && cargo build --quiet) || { echo "build failed" >&2; exit 1; }
MC_BIN="$MC_TARGET/debug/minichain"

FLAGS=(--difficulty 8)
# Read the whole help first: `--help | grep -q` under pipefail fails at random (grep stops
# at the first match and the node's --help dies of SIGPIPE), which started the nodes with
# relay on, and their background sync then healed the forks the test stages.
HELP=$("$MC_BIN" --help)
if [[ "$HELP" == *--no-relay* ]]; then
  FLAGS+=(--no-relay)
fi
say "Starting two fresh nodes (${FLAGS[*]}); A pays its rewards to the name alice"
mc_start A "${FLAGS[@]}" --miner alice
mc_start B "${FLAGS[@]}"
note "A = $URL_A"
note "B = $URL_B"

# The page opened from another machine: this machine's own non-loopback address (traffic
# stays on this machine).
LAN_IP=$(ip -4 -o addr show scope global 2>/dev/null | awk '{print $4}' | cut -d/ -f1 | head -1 || true)
if [ -z "$LAN_IP" ]; then
  LAN_IP=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9]+(\.[0-9]+){3}$' | grep -v '^127\.' | head -1 || true)
fi
NODE_C="" NODE_C_LAN="" NODE_C_TOKEN_FILE=""
if [ -n "$LAN_IP" ]; then
  say "Starting node C bound to every interface (--host 0.0.0.0), for its page opened from $LAN_IP"
  mc_start C "${FLAGS[@]}" --host 0.0.0.0
  NODE_C=$URL_C
  NODE_C_LAN="http://$LAN_IP:${URL_C##*:}"
  NODE_C_TOKEN_FILE="$DIR_C/owner.token"
  note "C = $URL_C, from the LAN $NODE_C_LAN"
else
  note "no non-loopback IPv4 address on this machine: the LAN check (page opened from another machine) will be skipped"
fi

rm -rf "$SCREENSHOTS"
status=0
NODE_A=$URL_A NODE_B=$URL_B PID_A=$PID_A CHROMIUM=$CHROMIUM SCREENSHOTS=$SCREENSHOTS \
  LOG_A=$LOG_A DIR_A=$DIR_A NODE_C=$NODE_C NODE_C_LAN=$NODE_C_LAN NODE_C_TOKEN_FILE=$NODE_C_TOKEN_FILE \
  CHAIN_VECTORS="$MC_ROOT/tests/data/chain_difficulty_8_reward_50.json" \
  node "$MC_ROOT/scripts/browser-test.cjs" || status=$?
if [ "$status" -ne 0 ]; then
  for n in "${MC_NODES[@]}"; do
    log="LOG_$n"
    echo "--- last lines of node $n's log (${!log}):" >&2
    tail -n 20 "${!log}" >&2 || true
  done
  exit "$status"
fi
say "All green: the explorer page works in Chromium; screenshots in scripts/.screenshots/"
