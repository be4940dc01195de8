#!/usr/bin/env bash
# Demo: a fork. Two nodes agree on one block, lose touch, and mine apart: A mines one block
# holding a payment, B mines two blocks. When A resolves against B it switches to B's
# longer chain, and the payment from A's cut-away block goes back into A's pool.
#   bash scripts/demo-fork.sh [--step] [--keep]
#   --step  print each request as a curl command you can copy, then its answer, and wait
#           for Enter
#   --keep  leave the nodes running at the end and print how to stop them
# Both nodes pay their rewards to the same address, "demo-miner", so the payment (from
# demo-miner) is affordable on either chain. Builds the node if needed, starts its own
# nodes on free ports with throw-away data directories, exits 0 when every expected
# outcome happened, and stops every node it started.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
mc_demo_args "$@"

DIFFICULTY=12
mc_build

say "Starting nodes A and B (difficulty $DIFFICULTY, both paying rewards to demo-miner)"
mc_start A --difficulty "$DIFFICULTY" --miner demo-miner --no-relay
mc_start B --difficulty "$DIFFICULTY" --miner demo-miner --no-relay
note "A is $URL_A"
note "B is $URL_B"

say "A mines block 2; B registers A and resolves, so both start from the same chain"
mc_call POST "$URL_A/mine"
mc_expect_status 200 "A mining"
COMMON=$(mc_json "$MC_BODY" 'd["hash"]')
note "block 2 (shared): ${COMMON:0:16}…, coinbase $(mc_json "$MC_BODY" '"%d coins to %s" % (d["transactions"][0]["amount"], d["transactions"][0]["recipient"])')"
mc_call POST "$URL_B/nodes/register" "{\"nodes\": [\"$URL_A\"]}"
mc_expect_status 201 "B registering A"
mc_call POST "$URL_B/nodes/resolve"
mc_expect_status 200 "B resolving"
mc_expect "B adopted A's chain (length 2)" "$(mc_json "$MC_BODY" 'd["replaced"] and d["length"] == 2 and d["tip"] == "'"$COMMON"'"')"

say "The network splits: B forgets A (DELETE /nodes/register); nobody knows anybody now"
mc_call DELETE "$URL_B/nodes/register" "{\"nodes\": [\"$URL_A\"]}"
mc_expect_status 200 "B forgetting A"
note "B's peers: $(mc_json "$MC_BODY" 'd["total_nodes"]')"

say "On A: demo-miner pays alice 10, and A mines it into block 3"
mc_call POST "$URL_A/transactions/new" '{"sender": "demo-miner", "recipient": "alice", "amount": 10}'
mc_expect_status 201 "the payment"
TX=$(mc_json "$MC_BODY" 'd["transaction"]["id"]')
note "payment id $TX"
mc_call POST "$URL_A/mine"
mc_expect_status 200 "A mining"
A3=$(mc_json "$MC_BODY" 'd["hash"]')
note "A's block 3: ${A3:0:16}…, transactions: $(mc_json "$MC_BODY" '[t["id"][:16] + "…" for t in d["transactions"]]')"
mc_expect "A's block 3 holds the payment" "$(mc_json "$MC_BODY" 'any(t["id"] == "'"$TX"'" for t in d["transactions"])')"
mc_call GET "$URL_A/pool"
mc_expect "A's pool is empty now" "$(mc_json "$MC_BODY" 'd["pool_length"] == 0')"

say "On B: two blocks, 3 and 4, with no payment (B never heard of it)"
mc_call POST "$URL_B/mine"
mc_expect_status 200 "B mining block 3"
note "B's block 3: $(mc_json "$MC_BODY" 'd["hash"][:16]')…"
mc_call POST "$URL_B/mine"
mc_expect_status 200 "B mining block 4"
B4=$(mc_json "$MC_BODY" 'd["hash"]')
note "B's block 4: ${B4:0:16}…"

say "Two versions of history"
mc_call GET "$URL_A/chain"
note "A: $(mc_json "$MC_BODY" '" <- ".join("%d:%s" % (b["index"], b["hash"][:8]) for b in d["chain"])')"
mc_call GET "$URL_B/chain"
note "B: $(mc_json "$MC_BODY" '" <- ".join("%d:%s" % (b["index"], b["hash"][:8]) for b in d["chain"])')"

say "The network heals: A registers B and resolves (GET /getblocks first shows what A lacks)"
mc_call POST "$URL_A/nodes/register" "{\"nodes\": [\"$URL_B\"]}"
mc_expect_status 201 "A registering B"
mc_call GET "$URL_A/getblocks"
mc_expect_status 200 "A's getblocks"
note "$(mc_json "$MC_BODY" '"; ".join("%s: length %s, A lacks %d blocks" % (i["node"], i.get("length"), len(i.get("blocks", []))) for i in d["information"])')"
mc_call POST "$URL_A/nodes/resolve"
mc_expect_status 200 "A resolving"
note "$(mc_json "$MC_BODY" 'd["message"]')"
note "peers: $(mc_json "$MC_BODY" '["%s: %s" % (p["node"], p["status"]) for p in d["peers"]]')"
mc_expect "A switched to B's chain (replaced, length 4, tip = B's block 4)" \
  "$(mc_json "$MC_BODY" 'd["replaced"] and d["length"] == 4 and d["tip"] == "'"$B4"'"')"

say "A's chain now"
mc_call GET "$URL_A/chain"
note "A: $(mc_json "$MC_BODY" '" <- ".join("%d:%s" % (b["index"], b["hash"][:8]) for b in d["chain"])')"
mc_expect "A's old block 3 is gone" "$(mc_json "$MC_BODY" 'all(b["hash"] != "'"$A3"'" for b in d["chain"])')"
mc_expect "the payment is in no block of A's chain" \
  "$(mc_json "$MC_BODY" 'all(t["id"] != "'"$TX"'" for b in d["chain"] for t in b["transactions"])')"

say "The payment from the cut-away block is back in A's pool"
mc_call GET "$URL_A/pool"
note "A's pool: $(mc_json "$MC_BODY" '["%s -> %s: %d (%s…)" % (t["sender"], t["recipient"], t["amount"], t["id"][:16]) for t in d["pool"]]')"
mc_expect "A's pool holds the payment again, same id" "$(mc_json "$MC_BODY" 'any(t["id"] == "'"$TX"'" for t in d["pool"])')"

say "A mines block 5: the payment is confirmed on the chain everybody can agree on"
mc_call POST "$URL_A/mine"
mc_expect_status 200 "A mining"
mc_expect "block 5 holds the payment" "$(mc_json "$MC_BODY" 'd["index"] == 5 and any(t["id"] == "'"$TX"'" for t in d["transactions"])')"
mc_call POST "$URL_B/nodes/register" "{\"nodes\": [\"$URL_A\"]}"
mc_call POST "$URL_B/nodes/resolve"
mc_expect "B adopts it too (length 5)" "$(mc_json "$MC_BODY" 'd["replaced"] and d["length"] == 5')"
mc_call GET "$URL_B/balances"
note "balances on B: $(mc_json "$MC_BODY" 'd["balances"]')"
mc_expect "alice has 10 on B" "$(mc_json "$MC_BODY" 'd["balances"].get("alice") == 10')"

say "Done: the longer chain won and no payment was lost. $(mc_ending)"
