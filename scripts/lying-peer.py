#!/usr/bin/env python3
"""A lying minichain peer, for demonstrations (scripts/demo-tamper.sh).

It copies the chain of an honest node (GET /inv and GET /chain), re-checks every hash of
it with the rules of SPEC.md section 3, forges a longer chain that breaks exactly one rule,
and serves that chain the way a real node would (SPEC sections 5 and 6): GET /inv with a
locator, GET /chain?from=&limit=. A node that registers it and resolves must refuse the
chain with status "invalid" and a reason naming the block and the rule.

Forgeries (--forge):
  bad-proof         two new blocks on top of the honest tip; the first one's proof (nonce)
                    does not meet the difficulty. Its "hash" field is its true hash, so the
                    proof of work is the only thing wrong.
  edited-amount     two new blocks; the second pays 10 coins from the liar to "mallory",
                    then the amount is edited to 40 after the id was computed. The id,
                    merkle root and proof of work are those of the original payment, so the
                    transaction id is the only thing wrong (the liar owns 100 coins, so
                    the edited amount would be affordable).
  rewritten-amount  the newest payment already on the honest chain is rewritten to
                    1,000,000 coins, and its id, the merkle root and the proof of work of
                    that block and of every block after it are redone honestly, plus one
                    new block so the forgery is longer. Every hash is right; only the
                    sender's balance does not cover the amount.
  bad-branch        the honest chain unchanged (its headers check), but every merkle proof
                    it serves (GET /transactions/ID/proof) has its first branch hash
                    changed, so the branch does not reach the header's merkle root: what
                    `minichain wallet verify` must catch and name (SPEC section 5b).

Besides /inv and /chain it serves GET /headers (from/limit or a locator) and
GET /transactions/ID/proof from its chain, as a node does (SPEC section 5b).

The first line on stdout is "listening on http://HOST:PORT" (like the node's), then one
line describing the forgery. GET /forgery answers that description as JSON.

Also: --check-vectors PATH checks this file's hashing against tests/data/vectors.json (a copy of ../shared/vectors.json) and exits.

Python 3 standard library only.
"""

import argparse
import hashlib
import json
import struct
import sys
import time
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ZERO_HASH = "00" * 32
LIAR_ADDRESS = "lying-peer"
MAX_CHAIN_PAGE = 500
MAX_INV_LIMIT = 2000


# ---------------------------------------------------------------------------------------
# SPEC section 3: hashing


def transaction_id(sender, recipient, amount, timestamp):
    """SHA-256 of len(sender) u32 LE | sender | len(recipient) u32 LE | recipient |
    amount u64 LE | timestamp u64 LE."""
    s = sender.encode("utf-8")
    r = recipient.encode("utf-8")
    preimage = (
        struct.pack("<I", len(s)) + s + struct.pack("<I", len(r)) + r
        + struct.pack("<Q", amount) + struct.pack("<Q", timestamp)
    )
    return hashlib.sha256(preimage).hexdigest()


def merkle_root(ids):
    """Pairs hashed level by level, the last one paired with itself on an odd level."""
    if not ids:
        return ZERO_HASH
    level = [bytes.fromhex(i) for i in ids]
    while len(level) > 1:
        if len(level) % 2:
            level.append(level[-1])
        level = [hashlib.sha256(level[i] + level[i + 1]).digest() for i in range(0, len(level), 2)]
    return level[0].hex()


def leaf_hash(tx):
    """A transaction's merkle leaf (SPEC §3): its id, or SHA-256(id ‖ signature) if signed."""
    if "signature" in tx:
        return hashlib.sha256(bytes.fromhex(tx["id"]) + bytes.fromhex(tx["signature"])).hexdigest()
    return tx["id"]


def header_prefix(block):
    """The first 84 bytes of the 92-byte header: everything but the proof."""
    return (
        struct.pack("<Q", block["index"]) + struct.pack("<Q", block["timestamp"])
        + bytes.fromhex(block["previous_hash"]) + bytes.fromhex(block["merkle_root"])
        + struct.pack("<I", block["difficulty"])
    )


def header_bytes(block):
    return header_prefix(block) + struct.pack("<Q", block["proof"])


def block_hash(block):
    return hashlib.sha256(header_bytes(block)).hexdigest()


def leading_zero_bits(hex_hash):
    return 256 - int(hex_hash, 16).bit_length()


def search_proof(block, meets):
    """Tries nonces 0, 1, 2, ... until meets(leading zero bits) is true; sets proof and
    hash. One SHA-256 of the fixed 84-byte prefix, then one copy+update per nonce."""
    base = hashlib.sha256(header_prefix(block))
    nonce = 0
    while True:
        h = base.copy()
        h.update(struct.pack("<Q", nonce))
        digest = h.hexdigest()
        if meets(leading_zero_bits(digest)):
            block["proof"] = nonce
            block["hash"] = digest
            return block
        nonce += 1


def mine(block):
    return search_proof(block, lambda bits: bits >= block["difficulty"])


def make_transaction(sender, recipient, amount, timestamp):
    return {
        "id": transaction_id(sender, recipient, amount, timestamp),
        "sender": sender,
        "recipient": recipient,
        "amount": amount,
        "timestamp": timestamp,
    }


def new_block(previous, transactions, timestamp):
    return {
        "index": previous["index"] + 1,
        "timestamp": timestamp,
        "previous_hash": previous["hash"],
        "merkle_root": merkle_root([leaf_hash(t) for t in transactions]),
        "difficulty": previous["difficulty"],
        "proof": 0,
        "hash": "",
        "transactions": transactions,
    }


def next_timestamp(previous):
    """A miner uses max(now, previous + 1) (SPEC section 4)."""
    return max(int(time.time() * 1000), previous["timestamp"] + 1)


def check_chain_hashes(chain):
    """Re-checks what the honest node sent: ids, merkle roots, header hashes, links, work.
    Returns a list of problems (empty when the chain is consistent)."""
    problems = []
    for i, block in enumerate(chain):
        where = "block %s" % block.get("index")
        for t in block["transactions"]:
            want = transaction_id(t["sender"], t["recipient"], t["amount"], t["timestamp"])
            if want != t["id"]:
                problems.append("%s: transaction id %s, recomputed %s" % (where, t["id"], want))
        root = merkle_root([leaf_hash(t) for t in block["transactions"]])
        if root != block["merkle_root"]:
            problems.append("%s: merkle_root %s, recomputed %s" % (where, block["merkle_root"], root))
        h = block_hash(block)
        if h != block["hash"]:
            problems.append("%s: hash %s, recomputed %s" % (where, block["hash"], h))
        if i > 0:
            if block["previous_hash"] != chain[i - 1]["hash"]:
                problems.append("%s: previous_hash does not link to block %s" % (where, i))
            if leading_zero_bits(h) < block["difficulty"]:
                problems.append("%s: hash does not meet difficulty %s" % (where, block["difficulty"]))
    return problems


def check_vectors(path):
    """Checks this file's hashing against the independent known answers."""
    with open(path, encoding="utf-8") as f:
        vectors = json.load(f)
    failures = 0
    for t in vectors["transactions"]:
        got = transaction_id(t["sender"], t["recipient"], t["amount"], t["timestamp"])
        failures += got != t["id"]
    for m in vectors["merkle"]:
        failures += merkle_root(m["ids"]) != m["root"]
    for h in vectors["headers"]:
        failures += header_bytes(h).hex() != h["header_hex"]
        failures += block_hash(h) != h["hash"]
        if "leading_zero_bits" in h:
            failures += leading_zero_bits(h["hash"]) != h["leading_zero_bits"]
    for g in vectors["genesis"].values():
        failures += block_hash(g) != g["hash"]
    chain = vectors["chain_difficulty_8_reward_50"]["chain"]
    problems = check_chain_hashes(chain)
    failures += len(problems)
    for p in problems:
        print("vectors: " + p, file=sys.stderr)
    return failures


# ---------------------------------------------------------------------------------------
# Forgeries


def forge(chain, kind):
    """Returns (forged chain, description dict). `chain` is the honest chain (copied)."""
    chain = [json.loads(json.dumps(b)) for b in chain]
    tip = chain[-1]
    reward = 50
    for b in chain[1:]:
        reward = b["transactions"][0]["amount"]
        break

    def coinbase(timestamp):
        return make_transaction("0", LIAR_ADDRESS, reward, timestamp)

    if kind == "bad-proof":
        ts = next_timestamp(tip)
        bad = new_block(tip, [coinbase(ts)], ts)
        search_proof(bad, lambda bits: bits < bad["difficulty"])
        ts = next_timestamp(bad)
        good = mine(new_block(bad, [coinbase(ts)], ts))
        chain += [bad, good]
        what = "block %d: proof %d gives hash %s with %d leading zero bits, below difficulty %d" % (
            bad["index"], bad["proof"], bad["hash"], leading_zero_bits(bad["hash"]), bad["difficulty"])
        return chain, {"forge": kind, "block": bad["index"], "rule": "proof of work", "what": what}

    if kind == "edited-amount":
        ts = next_timestamp(tip)
        first = mine(new_block(tip, [coinbase(ts)], ts))
        ts = next_timestamp(first)
        payment = make_transaction(LIAR_ADDRESS, "mallory", 10, ts - 1)
        second = new_block(first, [coinbase(ts), payment], ts)
        payment["amount"] = 40  # the edit: id, merkle root and hash still describe 10 coins
        mine(second)
        chain += [first, second]
        what = ("block %d: payment %s from %s to mallory says amount 40, but its id is the hash "
                "of amount 10" % (second["index"], payment["id"], LIAR_ADDRESS))
        return chain, {"forge": kind, "block": second["index"], "rule": "transaction id",
                       "what": what}

    if kind == "bad-branch":
        what = ("every proof's first branch hash is changed, so no branch reaches its header's "
                "merkle root; the chain itself is the honest one")
        return chain, {"forge": kind, "block": None, "rule": "merkle branch", "what": what}

    if kind == "rewritten-amount":
        target = None
        for b in reversed(chain[1:]):
            if len(b["transactions"]) > 1:
                target = b
                break
        if target is None:
            raise SystemExit("lying-peer: the honest chain has no payment to rewrite; "
                             "post a transaction and mine it on the honest node first")
        position = chain.index(target)
        payment = target["transactions"][1]
        old_amount = payment["amount"]
        payment["amount"] = 1_000_000
        payment["id"] = transaction_id(payment["sender"], payment["recipient"],
                                       payment["amount"], payment["timestamp"])
        # Redo the merkle root and the work of the edited block and of every later block.
        for i in range(position, len(chain)):
            b = chain[i]
            b["previous_hash"] = chain[i - 1]["hash"]
            b["merkle_root"] = merkle_root([leaf_hash(t) for t in b["transactions"]])
            mine(b)
        ts = next_timestamp(chain[-1])
        chain.append(mine(new_block(chain[-1], [coinbase(ts)], ts)))
        what = ("block %d: payment from %s to %s rewritten from %d to %d coins; id, merkle root "
                "and proof of work redone, so only the balance rule can catch it" % (
                    target["index"], payment["sender"], payment["recipient"], old_amount,
                    payment["amount"]))
        return chain, {"forge": kind, "block": target["index"], "rule": "balance", "what": what}

    raise SystemExit("lying-peer: unknown forgery %r" % kind)


# ---------------------------------------------------------------------------------------
# Serving the forged chain like a node (SPEC sections 5 and 6)


HEADER_FIELDS = ("index", "timestamp", "previous_hash", "merkle_root", "difficulty", "proof", "hash")


def merkle_branch(leaves, position):
    """SPEC section 5b: the siblings from leaf `position` up, each with its side; a level's
    odd last hash pairs with itself."""
    level = [bytes.fromhex(x) for x in leaves]
    branch = []
    while len(level) > 1:
        if position % 2:
            branch.append({"hash": level[position - 1].hex(), "side": "left"})
        else:
            sibling = level[position + 1] if position + 1 < len(level) else level[position]
            branch.append({"hash": sibling.hex(), "side": "right"})
        if len(level) % 2:
            level.append(level[-1])
        level = [hashlib.sha256(level[i] + level[i + 1]).digest() for i in range(0, len(level), 2)]
        position //= 2
    return branch


class Liar:
    def __init__(self, chain, description):
        self.chain = chain
        self.description = description
        self.bad_branch = description["forge"] == "bad-branch"
        self.node_id = uuid.uuid4().hex
        self.position = {b["hash"]: i for i, b in enumerate(chain)}

    def inv(self, query):
        limit = int_param(query, "limit", 500)
        limit = min(max(limit, 0), MAX_INV_LIMIT)
        start, fork_index = 0, 0
        locator = query.get("locator", [""])[0]
        for h in [x for x in locator.split(",") if x]:
            if h in self.position:
                start = self.position[h] + 1
                fork_index = self.chain[self.position[h]]["index"]
                break
        blocks = self.chain[start:start + limit]
        return {
            "node_id": self.node_id,
            "length": len(self.chain),
            "tip": self.chain[-1]["hash"],
            "genesis": self.chain[0]["hash"],
            "difficulty": self.chain[0]["difficulty"],
            "fork_index": fork_index,
            "values": [{"type": "block", "value": b["hash"]} for b in blocks],
        }

    def headers(self, query):
        limit = min(max(int_param(query, "limit", 500), 1), MAX_INV_LIMIT)
        start = max(int_param(query, "from", 1), 1) - 1
        for h in [x for x in query.get("locator", [""])[0].split(",") if x]:
            if h in self.position:
                start = self.position[h] + 1
                break
        blocks = self.chain[start:start + limit]
        return {"headers": [{k: b[k] for k in HEADER_FIELDS} for b in blocks],
                "length": len(self.chain)}

    def proof(self, txid):
        """(status, answer) for GET /transactions/ID/proof."""
        for b in self.chain:
            for position, tx in enumerate(b["transactions"]):
                if tx["id"] != txid:
                    continue
                leaves = [leaf_hash(t) for t in b["transactions"]]
                branch = merkle_branch(leaves, position)
                if self.bad_branch:
                    if branch:
                        last = branch[0]["hash"][-1]
                        branch[0]["hash"] = branch[0]["hash"][:-1] + ("0" if last != "0" else "1")
                    else:
                        branch = [{"hash": ZERO_HASH, "side": "right"}]
                return 200, {"transaction": tx, "leaf": leaves[position], "branch": branch,
                             "header": {k: b[k] for k in HEADER_FIELDS},
                             "confirmations": len(self.chain) - b["index"] + 1}
        return 404, {"error": "transaction %s is not in this chain" % txid}

    def page(self, query):
        if not query:
            return {"chain": self.chain, "length": len(self.chain)}
        first = int_param(query, "from", 1)
        limit = min(max(int_param(query, "limit", MAX_CHAIN_PAGE), 0), MAX_CHAIN_PAGE)
        blocks = [b for b in self.chain if b["index"] >= first][:limit]
        return {"chain": blocks, "length": len(self.chain)}


class BadRequest(Exception):
    pass


def int_param(query, name, default):
    if name not in query:
        return default
    value = query[name][0]
    try:
        return int(value)
    except ValueError:
        raise BadRequest("%s must be a whole number, got %r" % (name, value)) from None


def make_handler(liar, quiet):
    class Handler(BaseHTTPRequestHandler):
        def reply(self, status, body):
            data = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def route(self, method):
            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
            routes = {
                "/inv": {"GET": lambda: liar.inv(query)},
                "/chain": {"GET": lambda: liar.page(query)},
                "/forgery": {"GET": lambda: liar.description},
                "/nodes/register": {"POST": lambda: {"message": "noted", "total_nodes": []}},
            }
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            parts = url.path.split("/")
            if method == "GET" and len(parts) == 4 and parts[1] == "transactions" and parts[3] == "proof":
                return self.reply(*liar.proof(parts[2]))
            routes["/headers"] = {"GET": lambda: liar.headers(query)}
            if url.path not in routes:
                return self.reply(404, {"error": "no route %s" % url.path})
            if method not in routes[url.path]:
                return self.reply(405, {"error": "%s does not answer %s" % (url.path, method)})
            try:
                return self.reply(201 if method == "POST" else 200, routes[url.path][method]())
            except BadRequest as e:
                return self.reply(400, {"error": str(e)})

        def do_GET(self):
            self.route("GET")

        def do_POST(self):
            self.route("POST")

        def do_DELETE(self):
            self.route("DELETE")

        def log_message(self, fmt, *args):
            if not quiet:
                sys.stderr.write("lying-peer: %s %s\n" % (self.address_string(), fmt % args))

    return Handler


def fetch_json(url, timeout):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read().decode("utf-8"))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--honest", help="base URL of the honest node to copy, e.g. http://127.0.0.1:5000")
    p.add_argument("--forge", choices=["bad-proof", "edited-amount", "rewritten-amount", "bad-branch"],
                   default="bad-proof")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--quiet", action="store_true", help="do not log requests")
    p.add_argument("--check-vectors", metavar="PATH",
                   help="check the hashing against shared/vectors.json and exit")
    args = p.parse_args()

    if args.check_vectors:
        failures = check_vectors(args.check_vectors)
        print("vectors: %s" % ("all known answers match" if not failures else "%d mismatches" % failures))
        sys.exit(1 if failures else 0)
    if not args.honest:
        p.error("--honest URL is required")

    honest = args.honest.rstrip("/")
    inv = fetch_json(honest + "/inv", 10)
    chain = fetch_json(honest + "/chain", 30)["chain"]
    problems = check_chain_hashes(chain)
    if chain[0]["hash"] != inv["genesis"]:
        problems.append("/inv genesis %s is not /chain's first block %s" % (inv["genesis"], chain[0]["hash"]))
    if problems:
        for prob in problems:
            print("lying-peer: honest chain does not re-hash: " + prob, file=sys.stderr)
        sys.exit(1)

    forged, description = forge(chain, args.forge)
    description["honest_length"] = len(chain)
    description["length"] = len(forged)
    description["tip"] = forged[-1]["hash"]
    liar = Liar(forged, description)

    server = ThreadingHTTPServer((args.host, args.port), make_handler(liar, args.quiet))
    host, port = server.server_address[:2]
    print("listening on http://%s:%d" % (host, port), flush=True)
    print("forged %s: %s" % (args.forge, description["what"]), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
