#!/usr/bin/env bash
# Demo: tampering is caught.
#   bash scripts/demo-tamper.sh [--step] [--keep]
#   --step  print each request as a curl command you can copy, then its answer, and wait
#           for Enter
#   --keep  leave the nodes running at the end and print how to stop them
# 1. A lying peer (scripts/lying-peer.py) copies an honest node's chain and offers a longer
#    forgery: a block whose proof of work is too weak, a payment whose amount was edited
#    after its id was computed, and a payment rewritten with every hash and proof redone.
#    The honest node refuses each on resolve (status "invalid", the reason naming the block
#    and the rule) and its chain stays exactly as it was.
# 2. An amount is edited by hand inside the node's data file while the node is stopped:
#    the node refuses to start, names the file, and leaves the file as it was.
# Builds the node if needed, starts its own processes on free ports with throw-away data
# directories, exits 0 when every expected outcome happened, and stops all it started.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
mc_demo_args "$@"

DIFFICULTY=12
LIAR="$MC_ROOT/scripts/lying-peer.py"
VECTORS="$MC_ROOT/tests/data/vectors.json"
mc_build

if [ -f "$VECTORS" ]; then
  say "Checking the lying peer's hashing against the known answers in tests/data/vectors.json"
  python3 "$LIAR" --check-vectors "$VECTORS" | sed 's/^/   /'
fi

say "Starting the honest node A (difficulty $DIFFICULTY)"
mc_start A --difficulty "$DIFFICULTY"
note "A is $URL_A"

say "A builds a short honest history: mine, pay alice 5, mine"
mc_call POST "$URL_A/mine"
mc_expect_status 200 "A mining block 2"
MINER_A=$(mc_json "$MC_BODY" 'd["transactions"][0]["recipient"]')
mc_call POST "$URL_A/transactions/new" "{\"sender\": \"$MINER_A\", \"recipient\": \"alice\", \"amount\": 5}"
mc_expect_status 201 "$MINER_A paying alice 5"
mc_call POST "$URL_A/mine"
mc_expect_status 200 "A mining block 3"
mc_call GET "$URL_A/chain"
CHAIN_BEFORE=$MC_BODY
note "A: $(mc_json "$MC_BODY" '" <- ".join("%d:%s" % (b["index"], b["hash"][:8]) for b in d["chain"])')"
mc_call GET "$URL_A/balances"
note "balances: $(mc_json "$MC_BODY" 'd["balances"]')"

# offer_forgery KIND: a liar copies A, forges, A resolves against it and must refuse.
offer_forgery() {
  local kind=$1 out="$MC_TMP/liar-$1.out"
  say "A lying peer copies A's chain and forges it: $kind"
  python3 "$LIAR" --honest "$URL_A" --forge "$kind" --quiet >"$out" 2>"$out.err" &
  local liar_pid=$!
  mc_track "$liar_pid"
  local liar_url
  liar_url=$(mc_wait_listening "$out" "$liar_pid" "lying peer") || exit 1
  note "the liar listens on $liar_url"
  note "$(sed -n 2p "$out")"
  mc_call GET "$liar_url/forgery"
  local block
  block=$(mc_json "$MC_BODY" 'd["block"]')
  note "its chain is $(mc_json "$MC_BODY" 'd["length"]') blocks long, A's is $(mc_json "$CHAIN_BEFORE" 'd["length"]'): longer, so A will look at it"

  mc_call POST "$URL_A/nodes/register" "{\"nodes\": [\"$liar_url\"]}"
  mc_expect_status 201 "A registering the liar"
  mc_call POST "$URL_A/nodes/resolve"
  mc_expect_status 200 "A resolving"
  local verdict
  verdict=$(mc_json "$MC_BODY" '[p for p in d["peers"] if p["node"] == "'"$liar_url"'"]')
  note "A's verdict on the liar: $verdict"
  mc_expect "not replaced" "$(mc_json "$MC_BODY" 'not d["replaced"]')"
  mc_expect "status invalid" "$(mc_json "$verdict" 'len(d) == 1 and d[0]["status"] == "invalid"')"
  mc_expect "the reason names block $block" "$(mc_json "$verdict" '"block '"$block"'" in d[0].get("reason", "")')"

  mc_call GET "$URL_A/chain"
  mc_expect "A's chain is unchanged" "$(mc_json_equal "$MC_BODY" "$CHAIN_BEFORE")"
  mc_call DELETE "$URL_A/nodes/register" "{\"nodes\": [\"$liar_url\"]}"
  mc_expect_status 200 "A forgetting the liar"
  kill -TERM "$liar_pid" 2>/dev/null || true
  wait "$liar_pid" 2>/dev/null || true
}

offer_forgery bad-proof
offer_forgery edited-amount
offer_forgery rewritten-amount

say "Now a hand edit on disk: stop A, raise alice's 5 coins to 500 in its data file"
mc_stop A
FILE="$DIR_A/blocks-000000.db"
note "A stopped; its blocks 2..99 live in $FILE"
cp "$FILE" "$MC_TMP/blocks-000000.db.original"
python3 - "$FILE" <<'PY'
import json, sys
path = sys.argv[1]
with open(path, encoding="utf-8") as f:
    data = json.load(f)
# pickledb's JSON format: [ {key: JSON-encoded value}, {list key: [...]} ]
table = data[0] if isinstance(data, list) else data
for key, value in table.items():
    block = json.loads(value) if isinstance(value, str) else value
    edited = False
    for t in block.get("transactions", []):
        if t.get("recipient") == "alice" and t.get("amount") == 5:
            t["amount"] = 500
            edited = True
    if edited:
        table[key] = json.dumps(block, separators=(",", ":")) if isinstance(value, str) else block
        print("   edited block %s: the payment to alice now says 500" % key)
        break
else:
    sys.exit("no payment to alice found in " + path)
with open(path, "w", encoding="utf-8") as f:
    json.dump(data, f, separators=(",", ":"))
PY
EDITED_SUM=$(mc_sha256 "$FILE")

say "Starting A again on the edited data directory: it must refuse"
"$MC_BIN" --port 0 --data-dir "$DIR_A" --difficulty "$DIFFICULTY" >"$MC_TMP/restart.out" 2>"$MC_TMP/restart.err" &
RESTART_PID=$!
mc_track "$RESTART_PID"
DEADLINE=$((SECONDS + 30))
while kill -0 "$RESTART_PID" 2>/dev/null && [ "$SECONDS" -lt "$DEADLINE" ]; do sleep 0.1; done
if kill -0 "$RESTART_PID" 2>/dev/null; then
  sed 's/^/   | /' "$MC_TMP/restart.out" "$MC_TMP/restart.err" | tail -n 5
  mc_expect "A refused to start (it is still running after 30 s)" no
fi
RC=0
wait "$RESTART_PID" || RC=$?
sed 's/^/   | /' "$MC_TMP/restart.out" "$MC_TMP/restart.err" | tail -n 5
mc_expect "A exited with a non-zero status ($RC)" "$([ "$RC" -ne 0 ] && echo yes)"
mc_expect "the error names the file blocks-000000.db" \
  "$(cat "$MC_TMP/restart.out" "$MC_TMP/restart.err" | grep -q 'blocks-000000.db' && echo yes)"
mc_expect "the file is left exactly as it was" "$([ "$(mc_sha256 "$FILE")" = "$EDITED_SUM" ] && echo yes)"

say "Undoing the edit: with the original file back, A starts and shows the same chain"
cp "$MC_TMP/blocks-000000.db.original" "$FILE"
mc_start_in A "$DIR_A" --difficulty "$DIFFICULTY"
note "A is back on $URL_A"
mc_call GET "$URL_A/chain"
mc_expect "same chain as before" "$(mc_json_equal "$MC_BODY" "$CHAIN_BEFORE")"

say "Done: forged chains were refused and a damaged file stopped the node. $(mc_ending)"
