// SPEC §3 byte for byte, in the browser: transaction ids, merkle roots, the 92-byte block
// header and its SHA-256 (Web Crypto; a small JS SHA-256 only where the browser offers no
// crypto.subtle, e.g. a page opened on a plain-http LAN address).
// ---------------------------------------------------------------------------------------
// Bytes and hashes (SPEC §3)

const encoder = new TextEncoder();

export function hexToBytes(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

export function bytesToHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function concatBytes(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

function u32le(n) {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, Number(n), true);
  return b;
}

function u64le(n) {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
}

// SHA-256 in plain JavaScript, used only when crypto.subtle is missing (not a secure context).
const SHA_K = new Uint32Array(64);
const SHA_H0 = new Uint32Array(8);
(() => {
  const primes = [];
  for (let n = 2; primes.length < 64; n++) if (primes.every((p) => n % p)) primes.push(n);
  primes.forEach((p, i) => {
    SHA_K[i] = Math.floor((Math.cbrt(p) % 1) * 2 ** 32);
    if (i < 8) SHA_H0[i] = Math.floor((Math.sqrt(p) % 1) * 2 ** 32);
  });
})();

export function sha256Js(bytes) {
  const length = bytes.length;
  const padded = (((length + 9 + 63) >> 6) << 6);
  const m = new Uint8Array(padded);
  m.set(bytes);
  m[length] = 0x80;
  const view = new DataView(m.buffer);
  view.setUint32(padded - 8, Math.floor(length / 0x20000000));
  view.setUint32(padded - 4, (length * 8) >>> 0);
  const h = Uint32Array.from(SHA_H0);
  const w = new Uint32Array(64);
  const rot = (x, n) => (x >>> n) | (x << (32 - n));
  for (let o = 0; o < padded; o += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(o + i * 4);
    for (let i = 16; i < 64; i++) {
      const s0 = rot(w[i - 15], 7) ^ rot(w[i - 15], 18) ^ (w[i - 15] >>> 3);
      const s1 = rot(w[i - 2], 17) ^ rot(w[i - 2], 19) ^ (w[i - 2] >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    let [a, b, c, d, e, f, g, hh] = h;
    for (let i = 0; i < 64; i++) {
      const t1 = (hh + (rot(e, 6) ^ rot(e, 11) ^ rot(e, 25)) + ((e & f) ^ (~e & g)) + SHA_K[i] + w[i]) | 0;
      const t2 = ((rot(a, 2) ^ rot(a, 13) ^ rot(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      hh = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
  }
  const out = new Uint8Array(32);
  const outView = new DataView(out.buffer);
  h.forEach((word, i) => outView.setUint32(i * 4, word));
  return out;
}

export async function sha256(bytes) {
  if (globalThis.crypto && crypto.subtle) {
    return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  }
  return sha256Js(bytes);
}

// Transaction id pre-image: len(sender) u32 LE | sender | len(recipient) u32 LE | recipient
// | amount u64 LE | timestamp u64 LE.
function transactionPreimage(tx) {
  const sender = encoder.encode(tx.sender);
  const recipient = encoder.encode(tx.recipient);
  return concatBytes(u32le(sender.length), sender, u32le(recipient.length), recipient,
    u64le(tx.amount), u64le(tx.timestamp));
}

export async function transactionId(tx) {
  return sha256(transactionPreimage(tx));
}

// A signed transaction's leaf commits to its signature: SHA-256(id | signature bytes).
async function leafHash(tx, id) {
  return tx.signature ? sha256(concatBytes(id, hexToBytes(tx.signature))) : id;
}

async function merkleRoot(leaves) {
  if (leaves.length === 0) return new Uint8Array(32);
  let level = leaves;
  while (level.length > 1) {
    const next = [];
    for (let i = 0; i < level.length; i += 2) {
      next.push(await sha256(concatBytes(level[i], level[i + 1] || level[i])));
    }
    level = next;
  }
  return level[0];
}

export async function blockMerkleRoot(transactions) {
  const leaves = [];
  for (const tx of transactions) leaves.push(await leafHash(tx, await transactionId(tx)));
  return merkleRoot(leaves);
}

// The 92-byte header, field by field (for the hex view).
export function headerFields(block) {
  return [
    ['index', 'u64 LE', u64le(block.index)],
    ['timestamp', 'u64 LE, ms', u64le(block.timestamp)],
    ['previous_hash', '32 bytes', hexToBytes(block.previous_hash)],
    ['merkle_root', '32 bytes', hexToBytes(block.merkle_root)],
    ['difficulty', 'u32 LE', u32le(block.difficulty)],
    ['proof', 'u64 LE, the nonce', u64le(block.proof)],
  ];
}

export function headerBytes(block) {
  return concatBytes(...headerFields(block).map((f) => f[2]));
}

export function leadingZeroBits(bytes) {
  let bits = 0;
  for (const byte of bytes) {
    if (byte === 0) { bits += 8; continue; }
    return bits + Math.clz32(byte) - 24;
  }
  return bits;
}
