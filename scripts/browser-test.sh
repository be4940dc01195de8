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
#    stopped node
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
if "$MC_BIN" --help | grep -q -- '--no-relay'; then
  FLAGS+=(--no-relay)
fi
say "Starting two fresh nodes (${FLAGS[*]}); A pays its rewards to the name alice"
mc_start A "${FLAGS[@]}" --miner alice
mc_start B "${FLAGS[@]}"
note "A = $URL_A"
note "B = $URL_B"

rm -rf "$SCREENSHOTS"
status=0
NODE_A=$URL_A NODE_B=$URL_B PID_A=$PID_A CHROMIUM=$CHROMIUM SCREENSHOTS=$SCREENSHOTS \
  CHAIN_VECTORS="$MC_ROOT/tests/data/chain_difficulty_8_reward_50.json" \
  node "$MC_ROOT/scripts/browser-test.cjs" || status=$?
if [ "$status" -ne 0 ]; then
  for n in A B; do
    log="LOG_$n"
    echo "--- last lines of node $n's log (${!log}):" >&2
    tail -n 20 "${!log}" >&2 || true
  done
  exit "$status"
fi
say "All green: the explorer page works in Chromium; screenshots in scripts/.screenshots/"
