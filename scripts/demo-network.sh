#!/usr/bin/env bash
# Demo: three nodes join, transact, mine, resolve, and end on the same tip.
#   bash scripts/demo-network.sh [--step] [--keep]
#   --step  print each request as a curl command you can copy, then its answer, and wait
#           for Enter
#   --keep  leave the nodes running at the end and print how to stop them
# Builds the node if needed, starts three nodes on free ports with throw-away data
# directories (difficulty 12), narrates each step, exits 0 when every expected outcome
# happened, and stops every node it started.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
mc_demo_args "$@"

DIFFICULTY=12
mc_build

say "Starting three nodes A, B and C (difficulty $DIFFICULTY, each with its own data directory)"
mc_start A --difficulty "$DIFFICULTY" --no-relay
mc_start B --difficulty "$DIFFICULTY" --no-relay
mc_start C --difficulty "$DIFFICULTY" --no-relay
note "A is $URL_A"
note "B is $URL_B"
note "C is $URL_C"

say "Joining the network: every node registers the other two (POST /nodes/register)"
mc_call POST "$URL_A/nodes/register" "{\"nodes\": [\"$URL_B\", \"$URL_C\"]}"
mc_expect_status 201 "A registering B and C"
note "A's peers: $(mc_json "$MC_BODY" 'd["total_nodes"]')"
mc_call POST "$URL_B/nodes/register" "{\"nodes\": [\"$URL_A\", \"${URL_C#http://}\"]}"
mc_expect_status 201 "B registering A and C (C written without http://, the node adds it)"
note "B's peers: $(mc_json "$MC_BODY" 'd["total_nodes"]')"
mc_call POST "$URL_C/nodes/register" "{\"nodes\": [\"$URL_A\", \"$URL_B\"]}"
mc_expect_status 201 "C registering A and B"
note "C's peers: $(mc_json "$MC_BODY" 'd["total_nodes"]')"

say "A mines the first block: the coinbase pays A's miner address the reward"
mc_call POST "$URL_A/mine"
mc_expect_status 200 "POST $URL_A/mine"
MINER_A=$(mc_json "$MC_BODY" 'd["transactions"][0]["recipient"]')
REWARD=$(mc_json "$MC_BODY" 'd["transactions"][0]["amount"]')
note "$(mc_json "$MC_BODY" '"block %d, hash %s…, proof %d found after %d attempts in %d ms" % (d["index"], d["hash"][:16], d["proof"], d["attempts"], d["elapsed_ms"])')"
note "A's miner address is $MINER_A; it now owns $REWARD coins"

say "A pays alice 20 and bob 5 (POST /transactions/new); both wait in A's pool"
mc_call POST "$URL_A/transactions/new" "{\"sender\": \"$MINER_A\", \"recipient\": \"alice\", \"amount\": 20}"
mc_expect_status 201 "payment to alice"
note "$(mc_json "$MC_BODY" 'd["message"] + " (id " + d["transaction"]["id"][:16] + "…)"')"
mc_call POST "$URL_A/transactions/new" "{\"sender\": \"$MINER_A\", \"recipient\": \"bob\", \"amount\": 5}"
mc_expect_status 201 "payment to bob"
mc_call GET "$URL_A/pool"
note "A's pool: $(mc_json "$MC_BODY" '["%s -> %s: %d" % (t["sender"], t["recipient"], t["amount"]) for t in d["pool"]]')"
mc_expect "A's pool holds the two payments" "$(mc_json "$MC_BODY" 'd["pool_length"] == 2')"

say "A mines again: the block carries the coinbase and both payments"
mc_call POST "$URL_A/mine"
mc_expect_status 200 "POST $URL_A/mine"
note "$(mc_json "$MC_BODY" '"block %d with %d transactions, hash %s…" % (d["index"], len(d["transactions"]), d["hash"][:16])')"
mc_expect "block 3 holds 3 transactions" "$(mc_json "$MC_BODY" 'd["index"] == 3 and len(d["transactions"]) == 3')"

say "B asks its peers what it lacks (GET /getblocks changes nothing)"
mc_call GET "$URL_B/getblocks"
mc_expect_status 200 "GET $URL_B/getblocks"
note "$(mc_json "$MC_BODY" '"; ".join("%s: length %s, %d blocks B lacks" % (i["node"], i.get("length"), len(i.get("blocks", []))) if "error" not in i else "%s: %s" % (i["node"], i["error"]) for i in d["information"])')"

say "B and C resolve (POST /nodes/resolve): each adopts A's longer chain"
mc_call POST "$URL_B/nodes/resolve"
mc_expect_status 200 "B resolving"
note "$(mc_json "$MC_BODY" 'd["message"]')"
note "peers: $(mc_json "$MC_BODY" '["%s %s" % (p["node"], p["status"]) for p in d["peers"]]')"
mc_expect "B replaced its chain (length 3)" "$(mc_json "$MC_BODY" 'd["replaced"] and d["length"] == 3')"
mc_call POST "$URL_C/nodes/resolve"
mc_expect_status 200 "C resolving"
mc_expect "C replaced its chain (length 3)" "$(mc_json "$MC_BODY" 'd["replaced"] and d["length"] == 3')"

say "Now alice, on C, pays carol 7; C mines it into block 4"
mc_call POST "$URL_C/transactions/new" '{"sender": "alice", "recipient": "carol", "amount": 7}'
mc_expect_status 201 "alice paying carol on C"
mc_call POST "$URL_C/mine"
mc_expect_status 200 "POST $URL_C/mine"
note "$(mc_json "$MC_BODY" '"block %d, coinbase to %s" % (d["index"], d["transactions"][0]["recipient"])')"

say "A and B resolve: C's chain is longer, so both adopt it"
mc_call POST "$URL_A/nodes/resolve"
mc_expect_status 200 "A resolving"
note "$(mc_json "$MC_BODY" '["%s %s" % (p["node"], p["status"]) for p in d["peers"]]')"
mc_expect "A replaced its chain (length 4)" "$(mc_json "$MC_BODY" 'd["replaced"] and d["length"] == 4')"
mc_call POST "$URL_B/nodes/resolve"
mc_expect_status 200 "B resolving"
mc_expect "B replaced its chain (length 4)" "$(mc_json "$MC_BODY" 'd["replaced"] and d["length"] == 4')"

say "One more resolve everywhere changes nothing: nobody is longer"
for n in A B C; do
  u="URL_$n"
  mc_call POST "${!u}/nodes/resolve"
  mc_expect "$n keeps its chain ($(mc_json "$MC_BODY" '", ".join(sorted(set(p["status"] for p in d["peers"])))'))" \
    "$(mc_json "$MC_BODY" 'not d["replaced"]')"
done

say "The same tip and the same balances on all three nodes (GET /chain, GET /balances)"
declare -A TIP BAL
for n in A B C; do
  u="URL_$n"
  mc_call GET "${!u}/chain"
  TIP[$n]=$(mc_json "$MC_BODY" '"length %d, tip %s" % (d["length"], d["chain"][-1]["hash"])')
  mc_call GET "${!u}/balances"
  BAL[$n]=$(mc_json "$MC_BODY" 'json.dumps(d["balances"], sort_keys=True)')
  note "$n: ${TIP[$n]}"
done
note "balances: ${BAL[A]}"
mc_expect "A, B and C show the same tip" "$([ "${TIP[A]}" = "${TIP[B]}" ] && [ "${TIP[B]}" = "${TIP[C]}" ] && echo yes)"
mc_expect "A, B and C show the same balances" "$([ "${BAL[A]}" = "${BAL[B]}" ] && [ "${BAL[B]}" = "${BAL[C]}" ] && echo yes)"
mc_expect "alice 13, bob 5, carol 7" "$(mc_json "${BAL[A]}" 'd.get("alice") == 13 and d.get("bob") == 5 and d.get("carol") == 7')"

say "Done: three nodes, one chain. $(mc_ending)"
