// minichain explorer: a client of the node's JSON routes, nothing more.
// Hashing follows SPEC §3 byte for byte (Web Crypto SHA-256; a small JS SHA-256 only
// where the browser offers no crypto.subtle, e.g. a plain-http LAN address).
'use strict';

const PAGE_SIZE = 10; // blocks per chain page
const TREE_WINDOW = 20; // blocks of every node in the fork tree
const POLL_MS = 1500; // this node: /inv?limit=0 (length, tip, pool ids)
const PEER_POLL_MS = 3000; // peers: their /inv?limit=0, and their last blocks when the tip moved
const TAMPER_WINDOW = 6; // blocks loaded into the tamper view

// ---------------------------------------------------------------------------------------
// Bytes and hashes (SPEC §3)

const encoder = new TextEncoder();

function hexToBytes(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

function bytesToHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function concatBytes(...parts) {
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

function sha256Js(bytes) {
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

async function sha256(bytes) {
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

async function transactionId(tx) {
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

async function blockMerkleRoot(transactions) {
  const leaves = [];
  for (const tx of transactions) leaves.push(await leafHash(tx, await transactionId(tx)));
  return merkleRoot(leaves);
}

// The 92-byte header, field by field (for the hex view).
function headerFields(block) {
  return [
    ['index', 'u64 LE', u64le(block.index)],
    ['timestamp', 'u64 LE, ms', u64le(block.timestamp)],
    ['previous_hash', '32 bytes', hexToBytes(block.previous_hash)],
    ['merkle_root', '32 bytes', hexToBytes(block.merkle_root)],
    ['difficulty', 'u32 LE', u32le(block.difficulty)],
    ['proof', 'u64 LE, the nonce', u64le(block.proof)],
  ];
}

function headerBytes(block) {
  return concatBytes(...headerFields(block).map((f) => f[2]));
}

function leadingZeroBits(bytes) {
  let bits = 0;
  for (const byte of bytes) {
    if (byte === 0) { bits += 8; continue; }
    return bits + Math.clz32(byte) - 24;
  }
  return bits;
}

// ---------------------------------------------------------------------------------------
// Talking to nodes

class HttpError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

// JSON.parse that keeps integers beyond 2^53 exact (as BigInt) where the browser lets it.
function parseJson(text) {
  return JSON.parse(text, (key, value, context) =>
    (typeof value === 'number' && !Number.isSafeInteger(value) && context &&
      /^\d+$/.test(context.source)) ? BigInt(context.source) : value);
}

async function api(base, path, { method = 'GET', body, timeout = 10000 } = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeout);
  try {
    const options = { method, signal: controller.signal, cache: 'no-store' };
    if (body !== undefined) {
      options.body = JSON.stringify(body);
      options.headers = { 'Content-Type': 'application/json' };
    }
    const response = await fetch(base + path, options);
    const text = await response.text();
    let data;
    try { data = parseJson(text); } catch {
      throw new HttpError(response.status, `${method} ${path}: answer ${response.status} is not JSON`);
    }
    if (!response.ok) {
      throw new HttpError(response.status, (data && data.error) || `${method} ${path}: HTTP ${response.status}`);
    }
    return data;
  } catch (error) {
    if (error.name === 'AbortError') throw new Error(`${method} ${path}: no answer within ${timeout} ms`);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------
// Small DOM helpers

const $ = (id) => document.getElementById(id);

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) {
      node.append(child instanceof Node ? child : String(child));
    }
  }
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  for (const child of children) node.append(child instanceof Node ? child : String(child));
  return node;
}

const short = (hash) => (hash ? String(hash).slice(0, 8) : '—');
const blockLabel = (index, hash) => `#${index} ${short(hash)}`;
const formatTime = (ms) => new Date(Number(ms)).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
const clock = () => new Date().toLocaleTimeString();

// A hash with its leading zero hex digits marked (the proof of work made visible).
function hashCode(hash, extraClass) {
  const zeros = String(hash).match(/^0*/)[0];
  return el('code', { class: `hash ${extraClass || ''}`, title: hash },
    el('span', { class: 'zeros', text: zeros }), String(hash).slice(zeros.length));
}

function showResult(output, text, isError) {
  output.textContent = '';
  output.classList.toggle('error', Boolean(isError));
  output.append(...[].concat(text));
}

// ---------------------------------------------------------------------------------------
// State

const ORIGIN = location.origin;
const state = {
  inv: null, // this node's last /inv?limit=0
  poolKey: null, // its pool ids, joined
  chainTop: null, // newest index on the chain page; null follows the tip
  open: new Set(), // hashes of expanded block cards
  nodesRoute: null, // GET /nodes exists (null: not asked yet)
  walletRoute: null, // GET /wallet exists
  peers: [], // peer URLs
  peerInfo: new Map(), // url -> {from /nodes}
  nodes: new Map(), // url -> {label, self, length, tip, window, error}
  seen: new Map(), // hash -> {index, hash, previous_hash}: every block the tree has shown
  networkBusy: false,
  tamper: { anchor: null, original: [], blocks: [] },
  down: null, // time the node stopped answering
};

// ---------------------------------------------------------------------------------------
// Views

function showView(event) {
  const name = (location.hash || '#chain').slice(1);
  const view = ['chain', 'network', 'pool', 'tamper'].includes(name) ? name : 'chain';
  for (const section of document.querySelectorAll('.view')) {
    section.hidden = section.id !== `view-${view}`;
  }
  for (const link of document.querySelectorAll('nav.views a')) {
    if (link.dataset.view === view) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (event) {
    // A view switch starts at the top, with focus on its heading for screen readers.
    window.scrollTo(0, 0);
    document.querySelector(`#view-${view} h2`).focus({ preventScroll: true });
  }
  if (view === 'network') refreshNetwork();
  if (view === 'tamper' && state.tamper.blocks.length === 0 && state.inv && tamperLoads === 0) loadTamper();
}

function renderHeader() {
  const inv = state.inv;
  $('node-url').textContent = ORIGIN;
  $('foot-url').textContent = ORIGIN;
  if (!inv) return;
  $('chain-length').textContent = inv.length;
  $('chain-tip').textContent = blockLabel(inv.length, inv.tip);
  $('chain-tip').title = inv.tip;
  $('chain-difficulty').textContent = `${inv.difficulty} bits`;
  $('zero-bits').textContent = `${inv.difficulty}`;
  $('pool-count').textContent = inv.values.filter((v) => v.type === 'transaction').length;
}

function setLive(ok, error) {
  const live = $('live');
  if (ok) {
    state.down = null;
    live.dataset.state = 'up';
    live.textContent = `live · updated ${clock()}`;
    document.body.classList.remove('offline');
  } else {
    state.down = state.down || clock();
    live.dataset.state = 'down';
    live.textContent = `node unreachable since ${state.down} (${error.message}); retrying every ${POLL_MS / 1000} s`;
    document.body.classList.add('offline');
  }
}

// ---------------------------------------------------------------------------------------
// Chain view

async function refreshChain() {
  const length = state.inv.length;
  const top = state.chainTop === null ? length : Math.min(state.chainTop, length);
  const from = Math.max(1, top - PAGE_SIZE + 1);
  const page = await api(ORIGIN, `/chain?from=${from}&limit=${top - from + 1}`);
  const blocks = page.chain.slice().reverse();
  $('page-label').textContent = `blocks ${from}–${top} of ${page.length}`;
  $('page-newer').disabled = top >= page.length;
  $('page-newest').disabled = state.chainTop === null;
  $('page-older').disabled = from <= 1;
  const list = $('blocks');
  list.replaceChildren(...blocks.map((block) => blockCard(block)));
  list.setAttribute('start', top);
}

function blockCard(block) {
  const id = `details-${block.hash}`;
  const open = state.open.has(block.hash);
  const details = el('div', { id, class: 'details', hidden: !open });
  const toggle = el('button', {
    type: 'button', 'aria-expanded': String(open), 'aria-controls': id,
    text: open ? 'Hide details' : 'Transactions and header bytes',
    onclick: () => {
      const nowOpen = toggle.getAttribute('aria-expanded') !== 'true';
      toggle.setAttribute('aria-expanded', String(nowOpen));
      toggle.textContent = nowOpen ? 'Hide details' : 'Transactions and header bytes';
      details.hidden = !nowOpen;
      if (nowOpen) { state.open.add(block.hash); fillDetails(details, block); } else state.open.delete(block.hash);
    },
  });
  if (open) fillDetails(details, block);
  const genesis = block.index === 1;
  return el('li', { class: 'block-card', dataset: { index: block.index, hash: block.hash } },
    el('article', { 'aria-label': `Block ${block.index}` },
      el('h3', {}, `Block #${block.index}`, genesis ? el('span', { class: 'tag', text: 'genesis' }) : null),
      el('dl', { class: 'fields' },
        el('dt', { text: 'hash' }), el('dd', {}, hashCode(block.hash)),
        el('dt', { text: 'previous hash' }), el('dd', {}, hashCode(block.previous_hash, 'prev')),
        el('dt', { text: 'nonce (proof)' }), el('dd', { text: String(block.proof) }),
        el('dt', { text: 'time' }), el('dd', { text: formatTime(block.timestamp) }),
        el('dt', { text: 'transactions' }), el('dd', { class: 'tx-count', text: block.transactions.length })),
      toggle, details),
    genesis ? null : el('p', { class: 'link', 'aria-hidden': 'true' },
      `▼ previous hash ${short(block.previous_hash)} = hash of #${block.index - 1}`));
}

async function fillDetails(details, block) {
  const bytes = headerBytes(block);
  const hash = bytesToHex(await sha256(bytes));
  const root = bytesToHex(await blockMerkleRoot(block.transactions));
  const rows = headerFields(block).map(([name, kind, part]) =>
    el('tr', {}, el('th', { scope: 'row', text: name }), el('td', { text: kind }),
      el('td', {}, el('code', { class: 'hex', text: bytesToHex(part) }))));
  const matches = hash === block.hash;
  details.replaceChildren(
    el('dl', { class: 'fields' },
      el('dt', { text: 'merkle root' }), el('dd', {}, hashCode(block.merkle_root),
        el('span', { class: root === block.merkle_root ? 'ok' : 'bad', text: root === block.merkle_root ? ' ✓ recomputed' : ` ✗ recomputed ${short(root)}` })),
      el('dt', { text: 'difficulty' }), el('dd', { text: `${block.difficulty} bits` })),
    el('div', { class: 'table-wrap' }, el('table', { class: 'header-bytes' },
      el('caption', { text: `Header: ${bytes.length} bytes (SPEC §3)` }),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'field' }), el('th', { scope: 'col', text: 'encoding' }), el('th', { scope: 'col', text: 'bytes (hex)' }))),
      el('tbody', {}, rows))),
    el('p', { class: 'verify', dataset: { verified: String(matches) } },
      'SHA-256 of these bytes, computed in this browser: ', hashCode(hash),
      el('span', { class: matches ? 'ok' : 'bad', text: matches ? ' ✓ equals the block hash' : ' ✗ differs from the block hash' })),
    transactionsTable(block.transactions, `Transactions of block #${block.index}`),
    block.index > 1 ? el('button', { type: 'button', text: 'Tamper with this block', onclick: () => openTamper(block.index) }) : null);
}

function transactionsTable(transactions, caption) {
  if (transactions.length === 0) return el('p', { class: 'note', text: 'No transactions.' });
  return el('div', { class: 'table-wrap' }, el('table', { class: 'txs' },
    el('caption', { text: caption }),
    el('thead', {}, el('tr', {}, ...['id', 'sender', 'recipient', 'amount', 'time'].map((h) =>
      el('th', { scope: 'col', class: h === 'amount' ? 'num' : null, text: h })))),
    el('tbody', {}, transactions.map((tx) => el('tr', { dataset: { id: tx.id } },
      el('td', {}, el('code', { title: tx.id, text: short(tx.id) }), tx.signature ? el('span', { class: 'tag', text: 'signed' }) : null),
      el('td', { class: 'addr', title: tx.sender, text: tx.sender === '0' ? '0 (coinbase)' : tx.sender }),
      el('td', { class: 'addr', title: tx.recipient, text: tx.recipient }),
      el('td', { class: 'num', text: String(tx.amount) }),
      el('td', { text: formatTime(tx.timestamp) }))))));
}

// ---------------------------------------------------------------------------------------
// Pool, balances, wallet

async function refreshPool() {
  const [pool, balances] = await Promise.all([api(ORIGIN, '/pool'), api(ORIGIN, '/balances')]);
  const poolRows = pool.pool.map((tx) => el('tr', { dataset: { id: tx.id } },
    el('td', {}, el('code', { title: tx.id, text: short(tx.id) })),
    el('td', { class: 'addr', title: tx.sender, text: tx.sender }),
    el('td', { class: 'addr', title: tx.recipient, text: tx.recipient }),
    el('td', { class: 'num', text: String(tx.amount) }),
    el('td', { text: formatTime(tx.timestamp) })));
  $('pool-table').tBodies[0].replaceChildren(...(poolRows.length ? poolRows :
    [el('tr', {}, el('td', { colspan: 5, class: 'note', text: 'The pool is empty.' }))]));
  const entries = Object.entries(balances.balances).sort((a, b) => Number(b[1]) - Number(a[1]));
  $('balances-table').tBodies[0].replaceChildren(...(entries.length ? entries.map(([address, coins]) =>
    el('tr', {}, el('td', { class: 'addr', title: address, text: address }), el('td', { class: 'num', text: String(coins) }))) :
    [el('tr', {}, el('td', { colspan: 2, class: 'note', text: 'Nobody has coins yet: mine a block.' }))]));
  await refreshWallet();
}

async function refreshWallet() {
  const box = $('wallet');
  if (state.walletRoute === false) return;
  try {
    const wallet = await api(ORIGIN, '/wallet');
    if (state.walletRoute === null && !$('sender').value) $('from-wallet').checked = true;
    state.walletRoute = true;
    $('from-wallet').disabled = false;
    box.replaceChildren(
      el('dt', { text: 'address' }), el('dd', {}, el('code', { class: 'addr', text: wallet.address })),
      el('dt', { text: 'balance' }), el('dd', { text: String(wallet.balance) }),
      el('dt', { text: 'signatures used / left' }), el('dd', { text: `${wallet.leaves_used} / ${wallet.leaves_left} (tree height ${wallet.height})` }),
      el('dt', { text: 'earlier keys' }), el('dd', { text: (wallet.retired || []).length ? wallet.retired.map(short).join(', ') : 'none' }));
  } catch (error) {
    if (error.status === 404) {
      state.walletRoute = false;
      const fromWallet = $('from-wallet');
      fromWallet.disabled = true;
      if (fromWallet.checked) $('from-name').checked = true;
      box.replaceChildren(el('dt', { text: 'wallet' }),
        el('dd', { text: 'this node has no GET /wallet route; send from a name instead' }));
    } else {
      box.replaceChildren(el('dt', { text: 'wallet' }), el('dd', { class: 'bad', text: error.message }));
    }
  }
}

// ---------------------------------------------------------------------------------------
// Network and fork tree

function nodeLabel(url) {
  return url === ORIGIN ? 'this node' : url.replace(/^http:\/\//, '');
}

async function loadPeers() {
  if (state.nodesRoute !== false) {
    try {
      const answer = await api(ORIGIN, '/nodes');
      state.nodesRoute = true;
      state.peerInfo = new Map(answer.nodes.map((n) => [n.node, n]));
      return answer.nodes.map((n) => n.node);
    } catch (error) {
      if (error.status !== 404) throw error;
      state.nodesRoute = false;
    }
  }
  const answer = await api(ORIGIN, '/nodes/register');
  state.peerInfo = new Map();
  return answer.total_nodes;
}

// Reads one node's length and tip, and its last TREE_WINDOW blocks when its tip moved.
async function probeNode(url) {
  const known = state.nodes.get(url) || { url, label: nodeLabel(url), self: url === ORIGIN, window: [] };
  try {
    const inv = url === ORIGIN && state.inv ? state.inv : await api(url, '/inv?limit=0', { timeout: 4000 });
    if (inv.tip !== known.tip || known.window.length === 0) {
      const from = Math.max(1, inv.length - TREE_WINDOW + 1);
      const page = await api(url, `/chain?from=${from}&limit=${TREE_WINDOW}`, { timeout: 8000 });
      noteTipMove(known, page.chain);
      known.window = page.chain.map((b) => ({ index: b.index, hash: b.hash, previous_hash: b.previous_hash }));
    }
    Object.assign(known, { length: inv.length, tip: inv.tip, error: null });
  } catch (error) {
    known.error = error.message;
  }
  state.nodes.set(url, known);
  return known;
}

// A node's new chain does not contain its old tip: a reorganisation, logged as an event.
function noteTipMove(node, chain) {
  if (!node.tip || chain.length === 0) return;
  const newTip = chain[chain.length - 1];
  const hashes = new Set(chain.map((b) => b.hash));
  if (hashes.has(node.tip)) {
    logEvent(`${node.label}: new tip ${blockLabel(newTip.index, newTip.hash)}`);
    return;
  }
  const oldTip = node.window[node.window.length - 1];
  if (!oldTip || oldTip.index < chain[0].index) return;
  let cut = 0;
  let walk = oldTip;
  while (walk && !hashes.has(walk.hash)) { cut += 1; walk = state.seen.get(walk.previous_hash); }
  logEvent(`${node.label} reorganised: tip moved from ${blockLabel(oldTip.index, oldTip.hash)} to ${blockLabel(newTip.index, newTip.hash)}, ${cut} block${cut === 1 ? '' : 's'} cut away`, 'reorg');
}

function logEvent(text, kind) {
  const list = $('events');
  list.prepend(el('li', { class: kind || '' }, el('time', { text: clock() }), ' ', text));
  while (list.children.length > 20) list.lastChild.remove();
}

async function refreshNetwork() {
  if (state.networkBusy || !state.inv) return;
  state.networkBusy = true;
  try {
    let peers = state.peers;
    try {
      peers = await loadPeers();
      $('nodes-note').textContent = state.nodesRoute ? '' :
        'This node has no GET /nodes route; its peers come from GET /nodes/register.';
    } catch (error) {
      $('nodes-note').textContent = `Could not list peers: ${error.message}`;
    }
    state.peers = peers;
    const urls = [ORIGIN, ...peers.filter((p) => p !== ORIGIN)];
    for (const url of state.nodes.keys()) if (!urls.includes(url)) state.nodes.delete(url);
    const nodes = await Promise.all(urls.map(probeNode));
    renderNodes(nodes);
    renderTree(nodes);
  } finally {
    state.networkBusy = false;
  }
}

function renderNodes(nodes) {
  $('nodes-table').tBodies[0].replaceChildren(...nodes.map((node) => {
    const info = state.peerInfo.get(node.url);
    const seen = node.self ? '—' : info ?
      `${info.status}${info.failures ? `, ${info.failures} failures` : ''}${info.last_seen_ms ? `, last seen ${formatTime(info.last_seen_ms)}` : ''}` :
      'registered';
    return el('tr', { dataset: { node: node.url, state: node.error ? 'down' : 'up' } },
      el('th', { scope: 'row' }, el('code', { text: node.url }), node.self ? el('span', { class: 'tag', text: 'this node' }) : null),
      el('td', { class: node.error ? 'bad' : 'ok', text: node.error ? `unreachable from the browser (${node.error})` : 'up' }),
      el('td', { class: 'num', text: node.length ?? '—' }),
      el('td', {}, node.tip ? el('code', { title: node.tip, text: blockLabel(node.length, node.tip) }) : '—'),
      el('td', { text: seen }));
  }));
}

// Lays the blocks of every node's window out as a tree: x = index, one row per branch.
function renderTree(nodes) {
  const live = new Map();
  for (const node of nodes) for (const block of node.window) live.set(block.hash, block);
  for (const block of live.values()) state.seen.set(block.hash, block);
  if (live.size === 0) return;
  const liveIndexes = new Set([...live.values()].map((b) => b.index));
  const minIndex = Math.min(...liveIndexes);
  const maxIndex = Math.max(...liveIndexes);
  const shown = new Map(live);
  for (const block of state.seen.values()) {
    if (!live.has(block.hash) && block.index >= minIndex && block.index <= maxIndex) shown.set(block.hash, block);
  }
  const children = new Map();
  for (const block of shown.values()) {
    if (!shown.has(block.previous_hash)) continue;
    if (!children.has(block.previous_hash)) children.set(block.previous_hash, []);
    children.get(block.previous_hash).push(block);
  }
  const leaves = [...live.values()].filter((b) => !(children.get(b.hash) || []).some((c) => live.has(c.hash)));
  leaves.sort((a, b) => b.index - a.index);
  const best = leaves[0];
  const onBest = new Set();
  for (let walk = best; walk; walk = shown.get(walk.previous_hash)) onBest.add(walk.hash);

  const lane = new Map();
  let lanes = 0;
  const rank = (b) => (onBest.has(b.hash) ? 0 : live.has(b.hash) ? 1 : 2);
  const place = (block, row) => {
    lane.set(block.hash, row);
    const kids = (children.get(block.hash) || []).slice().sort((a, b) => rank(a) - rank(b) || (a.hash < b.hash ? -1 : 1));
    kids.forEach((kid, i) => place(kid, i === 0 ? row : lanes++));
  };
  const roots = [...shown.values()].filter((b) => !shown.has(b.previous_hash))
    .sort((a, b) => rank(a) - rank(b) || a.index - b.index);
  for (const root of roots) place(root, lanes++);

  const tips = new Map();
  for (const node of nodes) {
    if (!node.tip || node.error) continue;
    if (!tips.has(node.tip)) tips.set(node.tip, []);
    tips.get(node.tip).push(node.self ? 'this node' : node.label.replace(/^127\.0\.0\.1/, ''));
  }

  const COL = 92; const ROW = 84; const BOX_W = 76; const BOX_H = 38; const PAD = 12;
  const pos = (b) => ({ x: PAD + (b.index - minIndex) * COL, y: PAD + lane.get(b.hash) * ROW });
  const width = PAD * 2 + (maxIndex - minIndex) * COL + BOX_W;
  const height = PAD * 2 + (lanes - 1) * ROW + BOX_H + 30;
  const edges = [];
  const boxes = [];
  for (const block of shown.values()) {
    const p = pos(block);
    const parent = shown.get(block.previous_hash);
    if (parent) {
      const q = pos(parent);
      const x1 = q.x + BOX_W; const y1 = q.y + BOX_H / 2; const x2 = p.x; const y2 = p.y + BOX_H / 2;
      const mid = (x1 + x2) / 2;
      edges.push(svg('path', { d: `M${x1},${y1} H${mid} V${y2} H${x2}`, class: `edge ${live.has(block.hash) ? '' : 'orphan'}` }));
    }
    const isLive = live.has(block.hash);
    const labels = tips.get(block.hash) || [];
    const selfTip = block.hash === state.inv.tip;
    const group = svg('g', {
      class: `tree-block ${isLive ? 'live' : 'orphan'} ${selfTip ? 'self-tip' : ''} ${labels.length ? 'tip' : ''}`,
      'data-hash': block.hash, 'data-index': block.index, 'data-lane': lane.get(block.hash),
    },
    svg('title', {}, `block ${block.index} ${block.hash}${isLive ? '' : ' (orphaned: no node has it now)'}`),
    svg('rect', { x: p.x, y: p.y, width: BOX_W, height: BOX_H, rx: 6 }),
    svg('text', { x: p.x + 8, y: p.y + 16, class: 'idx' }, `#${block.index}`),
    svg('text', { x: p.x + 8, y: p.y + 31, class: 'h' }, block.hash.slice(0, 8)));
    labels.forEach((label, i) => group.append(
      svg('text', { x: p.x + 2, y: p.y + BOX_H + 14 + i * 13, class: 'tip-label' }, `▲ ${label}`)));
    boxes.push(group);
  }
  const branchCount = leaves.length;
  const orphanCount = shown.size - live.size;
  const figure = $('fork-figure');
  figure.dataset.branches = branchCount;
  figure.dataset.orphans = orphanCount;
  const drawing = svg('svg', { width, height: Math.max(height, 60), viewBox: `0 0 ${width} ${Math.max(height, 60)}`, role: 'img', 'aria-labelledby': 'fork-summary' }, ...edges, ...boxes);
  const scroll = $('fork-scroll');
  scroll.replaceChildren(drawing);
  scroll.scrollLeft = scroll.scrollWidth;
  const describe = (leaf) => {
    const holders = tips.get(leaf.hash) || [];
    return `${blockLabel(leaf.index, leaf.hash)}${holders.length ? ` (tip of ${holders.join(', ')})` : ''}`;
  };
  let forkAt = null;
  if (branchCount > 1) {
    const byIndex = new Map();
    for (const b of live.values()) byIndex.set(b.index, (byIndex.get(b.index) || 0) + 1);
    forkAt = Math.min(...[...byIndex].filter(([, n]) => n > 1).map(([i]) => i));
  }
  $('fork-summary').textContent = branchCount > 1 ?
    `${branchCount} branches: the nodes disagree from block #${forkAt} on. Ends: ${leaves.map(describe).join('; ')}. Resolve moves the shorter side to the longest chain.` :
    `One branch: every node is on the same chain, the shorter ones only behind. Longest tip ${describe(best)}.${orphanCount ? ` ${orphanCount} orphaned block${orphanCount === 1 ? '' : 's'} (dashed) were cut away.` : ''}`;
}

// ---------------------------------------------------------------------------------------
// Actions

async function busy(button, label, work) {
  const text = button.textContent;
  button.disabled = true;
  button.textContent = label;
  try { await work(); } finally { button.disabled = false; button.textContent = text; }
}

async function mine() {
  const output = $('mine-result');
  await busy($('mine'), 'Mining…', async () => {
    try {
      const block = await api(ORIGIN, '/mine', { method: 'POST', timeout: 600000 });
      showResult(output, [`Block #${block.index} `, hashCode(block.hash),
        `: ${block.attempts} attempts in ${block.elapsed_ms} ms (${Number(block.hash_rate).toLocaleString('en')} hashes/s), ${block.transactions.length} transaction${block.transactions.length === 1 ? '' : 's'}.`]);
      await poll();
    } catch (error) {
      showResult(output, `Mining failed: ${error.message}`, true);
    }
  });
}

async function send(event) {
  event.preventDefault();
  const output = $('send-result');
  const fromWallet = $('from-wallet').checked;
  const body = { recipient: $('recipient').value.trim(), amount: Number($('amount').value) };
  if (!fromWallet) {
    const sender = $('sender').value.trim();
    if (!sender) { showResult(output, 'Name the sender, or choose this node\'s wallet.', true); $('sender').focus(); return; }
    body.sender = sender;
  }
  await busy($('send'), 'Sending…', async () => {
    try {
      const answer = await api(ORIGIN, '/transactions/new', { method: 'POST', body });
      const tx = answer.transaction;
      showResult(output, [`${answer.message}: ${tx.amount} from `, el('span', { class: 'addr', text: short(tx.sender) === tx.sender ? tx.sender : `${tx.sender.slice(0, 16)}…` }),
        ` to ${tx.recipient} (id `, el('code', { text: short(tx.id) }), ').']);
      await poll();
    } catch (error) {
      showResult(output, `Refused: ${error.message}`, true);
    }
  });
}

async function resolve() {
  const output = $('resolve-result');
  await busy($('resolve'), 'Resolving…', async () => {
    try {
      const answer = await api(ORIGIN, '/nodes/resolve', { method: 'POST', timeout: 120000 });
      const peers = answer.peers.map((p) => el('li', {}, `${nodeLabel(p.node)}: ${p.status}${p.length !== undefined ? `, length ${p.length}` : ''}${p.reason ? ` (${p.reason})` : ''}`));
      showResult(output, [`${answer.message}. Replaced: ${answer.replaced ? 'yes' : 'no'}; length ${answer.length}, tip ${short(answer.tip)}.`,
        peers.length ? el('ul', {}, peers) : ' No peers registered.']);
      await poll();
      await refreshNetwork();
    } catch (error) {
      showResult(output, `Resolve failed: ${error.message}`, true);
    }
  });
}

async function register(event) {
  event.preventDefault();
  const output = $('register-result');
  try {
    const answer = await api(ORIGIN, '/nodes/register', { method: 'POST', body: { nodes: [$('peer-url').value.trim()] } });
    showResult(output, `${answer.message}: ${answer.total_nodes.join(', ')}`);
    $('peer-url').value = '';
    await refreshNetwork();
  } catch (error) {
    showResult(output, `Refused: ${error.message}`, true);
  }
}

// ---------------------------------------------------------------------------------------
// Tamper view

function openTamper(index) {
  $('tamper-from').value = index;
  location.hash = '#tamper';
  loadTamper();
}

let tamperLoads = 0; // only the latest load renders

async function loadTamper(event) {
  if (event) event.preventDefault();
  const ticket = ++tamperLoads;
  const length = state.inv ? state.inv.length : 1;
  if (length < 2) {
    $('tamper-summary').textContent = 'Only the genesis block so far: mine a block first.';
    $('tamper-blocks').replaceChildren();
    return;
  }
  let from = Number($('tamper-from').value) || 2;
  from = Math.min(Math.max(2, from), length);
  $('tamper-from').value = from;
  $('tamper-from').max = length;
  try {
    const page = await api(ORIGIN, `/chain?from=${from - 1}&limit=${TAMPER_WINDOW + 1}`);
    if (ticket !== tamperLoads) return;
    const [anchor, ...blocks] = page.chain;
    state.tamper = { anchor, original: blocks, blocks: structuredClone(blocks) };
    renderTamper();
  } catch (error) {
    $('tamper-summary').textContent = `Could not load blocks: ${error.message}`;
  }
}

function tamperInput(block, key, label, value, onChange, kind) {
  const id = `t-${block.index}-${label.replace(/\W+/g, '-')}`;
  return el('div', { class: 'edit' },
    el('label', { for: id, text: label }),
    el('input', { id, value: String(value), inputmode: kind === 'number' ? 'numeric' : null, autocomplete: 'off', spellcheck: 'false',
      dataset: { field: key }, oninput: (e) => { onChange(e.target.value); scheduleTamperCheck(); } }));
}

function renderTamper() {
  const { blocks } = state.tamper;
  const cards = blocks.map((block, b) => {
    const txRows = block.transactions.map((tx, t) => el('fieldset', { class: 'tx-edit' },
      el('legend', { text: t === 0 ? 'coinbase' : `transaction ${t}` }),
      tamperInput(block, `tx${t}.sender`, `tx ${t} sender`, tx.sender, (v) => { tx.sender = v; }),
      tamperInput(block, `tx${t}.recipient`, `tx ${t} recipient`, tx.recipient, (v) => { tx.recipient = v; }),
      tamperInput(block, `tx${t}.amount`, `tx ${t} amount`, tx.amount, (v) => { tx.amount = v; }, 'number')));
    return el('li', { class: 'block-card tamper-card', dataset: { index: block.index, valid: 'true' } },
      el('article', { 'aria-label': `Block ${block.index} (editable copy)` },
        el('h3', {}, `Block #${block.index}`, el('span', { class: 'verdict', 'aria-live': 'polite' })),
        el('div', { class: 'edits' },
          tamperInput(block, 'timestamp', 'timestamp (ms)', block.timestamp, (v) => { block.timestamp = v; }, 'number'),
          tamperInput(block, 'proof', 'nonce (proof)', block.proof, (v) => { block.proof = v; }, 'number'),
          ...txRows),
        el('dl', { class: 'fields computed' },
          el('dt', { text: 'previous hash (stored)' }), el('dd', { class: 'c-prev' }),
          el('dt', { text: 'merkle root (recomputed)' }), el('dd', { class: 'c-root' }),
          el('dt', { text: 'hash (recomputed)' }), el('dd', { class: 'c-hash' })),
        el('ul', { class: 'reasons' }),
        el('button', { type: 'button', class: 'remine', text: 'Mine it again in the browser', onclick: (e) => remine(b, e.target) })));
  });
  $('tamper-blocks').replaceChildren(...cards);
  checkTamper();
}

let tamperTimer = null;
function scheduleTamperCheck() {
  clearTimeout(tamperTimer);
  tamperTimer = setTimeout(checkTamper, 60);
}

// The edited copy as a block, or the name of the field that is not a number.
function numbersOf(block) {
  const whole = (v) => /^\s*\d+\s*$/.test(String(v));
  for (const key of ['timestamp', 'proof']) if (!whole(block[key])) return { bad: key };
  for (const tx of block.transactions) if (!whole(tx.amount)) return { bad: 'amount' };
  return { bad: null };
}

async function evaluateBlock(block) {
  const root = await blockMerkleRoot(block.transactions);
  const header = { ...block, merkle_root: bytesToHex(root) };
  const hash = await sha256(headerBytes(header));
  return { root: bytesToHex(root), hash: bytesToHex(hash), zeros: leadingZeroBits(hash) };
}

async function checkTamper() {
  const { anchor, original, blocks } = state.tamper;
  const cards = [...$('tamper-blocks').children];
  let previousHash = anchor.hash;
  let previousValid = true;
  let firstBad = null;
  let edited = 0;
  for (let i = 0; i < blocks.length; i++) {
    const block = blocks[i];
    const card = cards[i];
    const reasons = [];
    const isEdited = blockEdited(block, original[i]);
    if (isEdited) edited += 1;
    const { bad } = numbersOf(block);
    let result = null;
    if (bad) {
      reasons.push(`${bad} must be a whole number`);
    } else {
      result = await evaluateBlock(block);
      if (result.zeros < block.difficulty) {
        reasons.push(`proof of work fails: the hash starts with ${result.zeros} zero bits, the difficulty asks for ${block.difficulty}`);
      }
      if (result.root !== original[i].merkle_root) reasons.push(`merkle root changed: a transaction id changed`);
    }
    const linkOk = block.previous_hash === previousHash;
    if (!linkOk) reasons.push(`link broken: it stores previous hash ${short(block.previous_hash)}, but block #${block.index - 1} now hashes to ${short(previousHash)}`);
    else if (!previousValid) reasons.push(`link broken: it builds on block #${block.index - 1}, which is invalid`);
    const powOk = result && result.zeros >= block.difficulty;
    const valid = Boolean(powOk) && linkOk && previousValid;
    if (!valid && firstBad === null) firstBad = block.index;
    card.dataset.valid = String(valid);
    card.dataset.edited = String(isEdited);
    card.dataset.link = linkOk && previousValid ? 'ok' : 'broken';
    card.dataset.pow = powOk ? 'ok' : 'fails';
    card.querySelector('.verdict').textContent = valid ? ' ✓ valid' : ' ✗ invalid';
    const linkNote = !linkOk ? ' ✗ broken link' : previousValid ? ' ✓ links' : ` ✗ links to #${block.index - 1}, which is invalid`;
    card.querySelector('.c-prev').replaceChildren(hashCode(block.previous_hash), el('span', { class: linkOk && previousValid ? 'ok' : 'bad', text: linkNote }));
    card.querySelector('.c-root').replaceChildren(result ? hashCode(result.root) : '—');
    card.querySelector('.c-hash').replaceChildren(result ? hashCode(result.hash) : '—',
      result ? el('span', { class: powOk ? 'ok' : 'bad', text: powOk ? ` ✓ ${result.zeros} zero bits` : ` ✗ ${result.zeros} zero bits < ${block.difficulty}` }) : '');
    card.querySelector('.reasons').replaceChildren(...reasons.map((r) => el('li', { text: r })));
    previousHash = result ? result.hash : '?';
    previousValid = valid;
  }
  $('tamper-summary').textContent = firstBad === null ?
    `Blocks #${blocks[0].index}–#${blocks[blocks.length - 1].index}: every hash recomputed in this browser matches, every proof of work holds, every link holds.${edited ? ' (Your edits still make a valid chain.)' : ' Edit a field to tamper.'}` :
    `Invalid from block #${firstBad} on: a node given this chain refuses it at block #${firstBad}.`;
}

function blockEdited(block, original) {
  if (String(block.timestamp) !== String(original.timestamp) || String(block.proof) !== String(original.proof)) return true;
  return block.transactions.some((tx, i) => ['sender', 'recipient', 'amount'].some((k) => String(tx[k]) !== String(original.transactions[i][k])));
}

// Searches a nonce for an edited block in the browser (so the proof of work holds again;
// the next block's link stays broken: that is the point).
async function remine(position, button) {
  const block = state.tamper.blocks[position];
  if (numbersOf(block).bad) return;
  const root = bytesToHex(await blockMerkleRoot(block.transactions));
  const header = { ...block, merkle_root: root };
  const limit = 2 ** 22;
  await busy(button, 'Mining…', async () => {
    const started = performance.now();
    for (let nonce = 0; nonce < limit; nonce++) {
      header.proof = nonce;
      if (leadingZeroBits(await sha256(headerBytes(header))) >= block.difficulty) {
        block.proof = String(nonce);
        const input = button.closest('li').querySelector('input[data-field="proof"]');
        input.value = String(nonce);
        await checkTamper();
        logEvent(`tamper: re-mined block #${block.index} in the browser: nonce ${nonce} after ${nonce + 1} attempts, ${Math.round(performance.now() - started)} ms`);
        return;
      }
      if (nonce % 4096 === 4095) button.textContent = `Mining… ${nonce + 1} tried`;
    }
  });
}

// ---------------------------------------------------------------------------------------
// Live polling

let pollTimer = null;
let lastPeerPoll = 0;

async function poll() {
  clearTimeout(pollTimer);
  try {
    const inv = await api(ORIGIN, '/inv?limit=0', { timeout: 5000 });
    setLive(true);
    const poolKey = inv.values.map((v) => v.value).join(',');
    const tipMoved = !state.inv || inv.tip !== state.inv.tip || inv.length !== state.inv.length;
    const poolMoved = poolKey !== state.poolKey;
    state.inv = inv;
    state.poolKey = poolKey;
    renderHeader();
    if (tipMoved) await refreshChain();
    if (tipMoved || poolMoved) await refreshPool();
    if (tipMoved || Date.now() - lastPeerPoll > PEER_POLL_MS) {
      lastPeerPoll = Date.now();
      refreshNetwork().catch(() => {});
    }
  } catch (error) {
    setLive(false, error);
  } finally {
    clearTimeout(pollTimer);
    pollTimer = setTimeout(poll, POLL_MS);
  }
}

// ---------------------------------------------------------------------------------------
// Start

function start() {
  renderHeader();
  window.addEventListener('hashchange', showView);
  $('mine').addEventListener('click', mine);
  $('resolve').addEventListener('click', resolve);
  $('send-form').addEventListener('submit', send);
  $('register-form').addEventListener('submit', register);
  $('tamper-form').addEventListener('submit', loadTamper);
  $('tamper-reset').addEventListener('click', () => {
    state.tamper.blocks = structuredClone(state.tamper.original);
    renderTamper();
  });
  $('sender').addEventListener('focus', () => { $('from-name').checked = true; });
  $('page-newest').addEventListener('click', () => { state.chainTop = null; refreshChain(); });
  $('page-newer').addEventListener('click', () => {
    const top = (state.chainTop ?? state.inv.length) + PAGE_SIZE;
    state.chainTop = top >= state.inv.length ? null : top;
    refreshChain();
  });
  $('page-older').addEventListener('click', () => {
    const top = state.chainTop ?? state.inv.length;
    state.chainTop = Math.max(Math.min(PAGE_SIZE, state.inv.length), top - PAGE_SIZE);
    refreshChain();
  });
  showView();
  poll().then(() => {
    if (!$('view-tamper').hidden && tamperLoads === 0) loadTamper();
  });
}

// Exposed for the browser test (scripts/browser-test.sh) to check the hashing against
// known answers; the page itself does not use it.
window.minichain = { transactionId, blockMerkleRoot, headerBytes, sha256, sha256Js, bytesToHex, refreshNetwork };

start();
