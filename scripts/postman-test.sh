#!/usr/bin/env bash
# Runs the Postman collection and the OpenAPI checker against three fresh nodes.
#   bash scripts/postman-test.sh
# 1. cargo build --release
# 2. starts three nodes on free ports (--port 0), each on its own temporary data directory,
#    at difficulty 8
# 3. runs scripts/minichain.postman_collection.json with node_a, node_b, node_c pointing at
#    the three nodes, through scripts/newman.sh (newman pinned there, installed into the
#    git-ignored scripts/.newman/ the first time)
#    (the folder "walk-through nodes (safe)" takes its --no-relay path there)
# 4. restarts the three nodes (POST /restart) and runs scripts/check-openapi.py against
#    node A, so the OpenAPI document's examples are replayed on a known state
# 5. starts three more nodes as README.md's walk-through does (relay on, mining to their
#    wallets, B and C --peer A; difficulty 8), mines one block, then runs the folder
#    "walk-through nodes (safe)" twice, as README.md tells a student to: each run must keep
#    A's chain, wallet and peers, add exactly one block, and leave B on A's chain
# 6. as from another machine (SPEC §5a): starts node D bound to 0.0.0.0 and reaches it at
#    this machine's LAN address, where owner actions need the owner token: checks that
#    POST /mine without it is a 403, then runs the folders that mine, restart and pay from
#    the node's wallet with owner_token set to D's <data-dir>/owner.token (skipped, with a
#    note, when the machine has no non-loopback IPv4 address)
# Every node it started is stopped and every temporary directory removed on exit. The exit
# status is non-zero when any assertion failed.
# Needs: cargo, node + npm (for newman), python3, curl.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

COLLECTION="$MC_ROOT/scripts/minichain.postman_collection.json"
newman() { bash "$MC_ROOT/scripts/newman.sh" "$@"; }

say "Building the node (cargo build --release)"
(cd "$MC_ROOT" && cargo build --release) || { echo "build failed" >&2; exit 1; }

say "Installing newman into scripts/.newman (once; the version is pinned in scripts/newman.sh)"
NEWMAN_VERSION=$(newman --version) || { echo "newman could not be installed (see above)" >&2; exit 1; }
note "newman $NEWMAN_VERSION"

say "Starting three fresh nodes (difficulty 8)"
# The collection follows the original's flow: each node mines to its own URL, a name
# (an open account), so the tour can spend its coins by name; relay is off, so the tour
# shows getblocks and resolve by hand. README.md's tour nodes (5005-5007) start the same way.
for name in A B C; do
  port=$(mc_free_port)
  MC_PORT=$port mc_start "$name" --difficulty 8 --no-relay --miner "http://127.0.0.1:$port"
done
note "node_a = $URL_A"
note "node_b = $URL_B"
note "node_c = $URL_C"

FAILED=0

say "Running the Postman collection with newman"
if ! newman run "$COLLECTION" \
  --env-var "node_a=$URL_A" --env-var "node_b=$URL_B" --env-var "node_c=$URL_C" \
  --timeout-request 120000 --color auto; then
  FAILED=1
  echo "newman: some assertions failed (see above)" >&2
fi

say "Restarting the three nodes, then replaying scripts/openapi.yaml against node A"
for url in "$URL_A" "$URL_B" "$URL_C"; do
  mc_call POST "$url/restart"
  [ "$MC_STATUS" = 200 ] || { echo "POST $url/restart answered $MC_STATUS: $MC_BODY" >&2; FAILED=1; }
done
if ! python3 "$MC_ROOT/scripts/check-openapi.py" --url "$URL_A"; then
  FAILED=1
  echo "check-openapi: the node and scripts/openapi.yaml disagree (see above)" >&2
fi

say "The folder \"walk-through nodes (safe)\" twice on three nodes started as the README's walk-through (relay on, mining to their wallets)"
# The run above took the folder's --no-relay path (B resolves by hand, A's wallet is funded
# through the name A mines to). Here it runs as README.md tells a student to: B gets A's
# block by relay alone; and each run must keep everything and add exactly one block.
MC_PORT=$(mc_free_port) mc_start WA --difficulty 8
for name in WB WC; do
  MC_PORT=$(mc_free_port) mc_start "$name" --difficulty 8 --peer "${URL_WA#http://}"
done
note "node_a = $URL_WA, node_b = $URL_WB, node_c = $URL_WC"
mc_call POST "$URL_WA/mine" # the walk-through's first command: A's wallet has coins
[ "$MC_STATUS" = 200 ] || { echo "POST $URL_WA/mine answered $MC_STATUS: $MC_BODY" >&2; FAILED=1; }
# walk_state: A's chain hashes, wallet address, peers, and B's chain hashes, as one JSON text.
walk_state() {
  local chain wallet peers chain_b
  chain=$(curl -sS -m 60 "$URL_WA/chain") && wallet=$(curl -sS -m 60 "$URL_WA/wallet") &&
    peers=$(curl -sS -m 60 "$URL_WA/nodes/register") && chain_b=$(curl -sS -m 60 "$URL_WB/chain") || return 1
  python3 -c '
import json, sys
chain, wallet, peers, chain_b = (json.loads(a) for a in sys.argv[1:5])
print(json.dumps({"chain": [b["hash"] for b in chain["chain"]], "wallet": wallet["address"],
                  "peers": peers["total_nodes"], "chain_b": [b["hash"] for b in chain_b["chain"]]}))
' "$chain" "$wallet" "$peers" "$chain_b"
}
for run in 1 2; do
  before=$(walk_state) || { echo "could not read the nodes' state" >&2; FAILED=1; break; }
  if ! newman run "$COLLECTION" --folder "walk-through nodes (safe)" \
    --env-var "node_a=$URL_WA" --env-var "node_b=$URL_WB" --env-var "node_c=$URL_WC" \
    --timeout-request 120000 --color auto; then
    FAILED=1
    echo "newman (walk-through nodes, run $run): some assertions failed (see above)" >&2
    break
  fi
  after=$(walk_state) || { echo "could not read the nodes' state" >&2; FAILED=1; break; }
  verdict=$(python3 -c '
import json, sys
b, a = json.loads(sys.argv[1]), json.loads(sys.argv[2])
wrong = []
if a["chain"][:len(b["chain"])] != b["chain"]: wrong.append("A'"'"'s chain lost blocks it had")
if len(a["chain"]) != len(b["chain"]) + 1: wrong.append("A'"'"'s chain grew by %d blocks, not 1" % (len(a["chain"]) - len(b["chain"])))
if a["wallet"] != b["wallet"]: wrong.append("A'"'"'s wallet changed key")
if not set(b["peers"]) <= set(a["peers"]): wrong.append("A forgot peers: %s" % sorted(set(b["peers"]) - set(a["peers"])))
if a["chain_b"] != a["chain"]: wrong.append("B'"'"'s chain is not A'"'"'s")
print("; ".join(wrong) or "ok")
' "$before" "$after")
  if [ "$verdict" = ok ]; then
    note "ok  run $run kept A's chain, wallet and peers, added one block, and B holds the same chain"
  else
    echo "walk-through nodes, run $run: $verdict" >&2
    FAILED=1
  fi
done

say "From another machine: the owner token in owner_token (SPEC §5a)"
LAN_IP=$(ip -4 -o addr show scope global 2>/dev/null | awk '{print $4}' | cut -d/ -f1 | head -1 || true)
if [ -z "$LAN_IP" ]; then
  note "SKIPPED (not a failure): this machine has no non-loopback IPv4 address to come from"
else
  port=$(mc_free_port)
  LAN_D="http://$LAN_IP:$port"
  MC_PORT=$port mc_start D --difficulty 8 --no-relay --host 0.0.0.0 --miner "$LAN_D"
  note "node_d = $LAN_D (bound to 0.0.0.0; this process reaches it from $LAN_IP, not from loopback)"
  mc_call POST "$LAN_D/mine"
  if [ "$MC_STATUS" = 403 ]; then
    note "ok  POST $LAN_D/mine without a token answered 403: $(mc_json "$MC_BODY" 'd["error"]')"
  else
    echo "POST $LAN_D/mine without a token answered $MC_STATUS, expected 403: $MC_BODY" >&2
    FAILED=1
  fi
  if ! newman run "$COLLECTION" \
    --folder /restart --folder /transactions/new --folder /mine --folder /wallet --folder "owner actions (403)" \
    --env-var "node_a=$LAN_D" --env-var "owner_token=$(cat "$DIR_D/owner.token")" \
    --timeout-request 120000 --color auto; then
    FAILED=1
    echo "newman (from the LAN address, with owner_token): some assertions failed (see above)" >&2
  fi
fi

if [ "$FAILED" -ne 0 ]; then
  say "FAILED"
  for n in "${MC_NODES[@]}"; do
    log="LOG_$n"
    echo "--- last lines of node $n's log (${!log}):" >&2
    tail -n 20 "${!log}" >&2 || true
  done
  exit 1
fi
say "All green: the collection and the OpenAPI checks passed"
