// What every part of the page shares: JSON calls to nodes, DOM helpers, the page state.
// ---------------------------------------------------------------------------------------
// Talking to nodes

export class HttpError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

// JSON.parse that keeps integers beyond 2^53 exact (as BigInt) where the browser lets it.
export function parseJson(text) {
  return JSON.parse(text, (key, value, context) =>
    (typeof value === 'number' && !Number.isSafeInteger(value) && context &&
      /^\d+$/.test(context.source)) ? BigInt(context.source) : value);
}

// `owner: true` marks an owner action (SPEC §5a): the saved owner token goes with it as
// `Authorization: Bearer`, and only when the call is to this page's own node (never to a
// peer, whatever the caller asks).
export async function api(base, path, { method = 'GET', body, timeout = 10000, owner = false } = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeout);
  try {
    const options = { method, signal: controller.signal, cache: 'no-store', headers: {} };
    if (body !== undefined) {
      options.body = JSON.stringify(body);
      options.headers['Content-Type'] = 'application/json';
    }
    const token = owner && base === ORIGIN ? ownerToken() : '';
    if (token) options.headers.Authorization = `Bearer ${token}`;
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
// The owner token (SPEC §5a): what <data-dir>/owner.token holds, pasted by the user. Kept in
// sessionStorage (this tab's session, this origin only: never localStorage, never a
// cookie), or in memory when the browser refuses storage.

const TOKEN_KEY = 'minichain.owner-token';
let tokenInMemory = '';

export const TOKEN_PATTERN = /^[0-9a-f]{64}$/;

export function ownerToken() {
  try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch { return tokenInMemory; }
}

export function setOwnerToken(token) {
  tokenInMemory = token;
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch { /* storage refused: the in-memory copy lasts until the page is closed */ }
}

// Whether the page was opened on the node's own machine (a loopback host), where the
// node takes owner actions without a token.
export function onLoopback() {
  const host = location.hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

// ---------------------------------------------------------------------------------------
// Small DOM helpers

export const $ = (id) => document.getElementById(id);

export function el(tag, props = {}, ...children) {
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

export const SVG_NS = 'http://www.w3.org/2000/svg';
export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  for (const child of children) node.append(child instanceof Node ? child : String(child));
  return node;
}

export const short = (hash) => (hash ? String(hash).slice(0, 8) : '—');
export const blockLabel = (index, hash) => `#${index} ${short(hash)}`;
export const formatTime = (ms) => new Date(Number(ms)).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
export const clock = () => new Date().toLocaleTimeString();

// A hash with its leading zero hex digits marked (the proof of work made visible).
export function hashCode(hash, extraClass) {
  const zeros = String(hash).match(/^0*/)[0];
  return el('code', { class: `hash ${extraClass || ''}`, title: hash },
    el('span', { class: 'zeros', text: zeros }), String(hash).slice(zeros.length));
}

export function showResult(output, text, isError) {
  output.textContent = '';
  output.classList.toggle('error', Boolean(isError));
  output.append(...[].concat(text));
}

// ---------------------------------------------------------------------------------------
// Addresses (SPEC §3a): a key address is 112 hex digits (an LMS public key); anything else
// is a name, an open account. Keys are labelled with what the page knows (this node's
// wallet, a peer's wallet) and shortened: their first 16 hex digits are two type codes,
// the same for every key of a tree height, so the short form is the 8 digits after them
// and the last 6 (the whole key is in the tooltip).

export const COINBASE_SENDER = '0';
export const isKey = (address) => /^[0-9a-f]{112}$/.test(address);
export const shortKey = (address) => `${address.slice(16, 24)}…${address.slice(-6)}`;
export const hostOf = (url) => url.replace(/^https?:\/\//, '');

// What the page knows about an address: { text (shown), label (or ''), kind, mine }.
// `kind`: coinbase, self, self-old (a retired key of this node), peer, peer-old, name, key.
export function describeAddress(address) {
  const a = String(address);
  const miner = state.miner === a;
  if (a === COINBASE_SENDER) return { text: '0', label: 'coinbase: new coins', kind: 'coinbase', mine: false };
  if (!isKey(a)) {
    return { text: a, label: miner ? 'name · this node\'s miner' : 'name', kind: 'name', mine: miner };
  }
  const self = state.selfWallet;
  if (self && self.address === a) return { text: shortKey(a), label: 'this node\'s wallet', kind: 'self', mine: true };
  if (self && self.retired.includes(a)) return { text: shortKey(a), label: 'this node\'s earlier key', kind: 'self-old', mine: true };
  for (const [url, wallet] of state.peerWallets) {
    if (wallet.address === a) return { text: shortKey(a), label: `wallet of ${hostOf(url)}`, kind: 'peer', mine: false };
    if (wallet.retired.includes(a)) return { text: shortKey(a), label: `earlier key of ${hostOf(url)}`, kind: 'peer-old', mine: false };
  }
  return { text: shortKey(a), label: miner ? 'this node\'s miner' : '', kind: 'key', mine: miner };
}

// Whether a block's reward went to this node: its miner (learned from a Mine answer), its
// wallet or one of its earlier keys.
export function paysThisNode(address) {
  return describeAddress(address).mine;
}

function fillAddress(node) {
  const address = node.dataset.address;
  const { text, label, kind } = describeAddress(address);
  node.dataset.kind = kind;
  const what = kind === 'coinbase' ? 'the coinbase sender: a block\'s reward is new coins' :
    kind === 'name' ? `the name "${address}": an open account, anyone may spend from it` :
    `key address ${address}${label ? ` (${label})` : ''}`;
  node.title = node.tagName === 'BUTTON' ? `${what}. Select for its balance history.` : what;
  // replaceChildren would write a null child as the text "null": an unknown key has no label.
  const parts = [el('span', { class: 'addr-text', text })];
  if (label) parts.push(el('span', { class: `addr-label ${kind}`, text: label }));
  node.replaceChildren(...parts);
}

// An address as the page shows it: short, labelled, the whole value in its tooltip; a
// button that opens its balance history (app.js listens), except the coinbase sender.
export function addressView(address, { history = true } = {}) {
  const a = String(address);
  const clickable = history && a !== COINBASE_SENDER;
  const node = el(clickable ? 'button' : 'span', {
    class: 'addr', type: clickable ? 'button' : null, dataset: { address: a },
  });
  fillAddress(node);
  return node;
}

let labelKey = '';

// Redraws every address on the page after the page learnt something about addresses
// (this node's wallet, a peer's, the miner); a no-op when nothing changed.
export function relabel() {
  const key = JSON.stringify([state.miner, state.selfWallet, [...state.peerWallets].map(([url, w]) => [url, w.address, w.retired])]);
  if (key === labelKey) return;
  labelKey = key;
  for (const node of document.querySelectorAll('.addr[data-address]')) fillAddress(node);
}

// ---------------------------------------------------------------------------------------
// State

export const ORIGIN = location.origin;
export const state = {
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
  selfWallet: null, // this node's {address, retired} from its GET /wallet
  peerWallets: new Map(), // peer url -> {address, retired, at}: its GET /wallet
  miner: null, // who this node's coinbases pay, learnt from a Mine answer
  recent: new Map(), // hash -> block summary: blocks seen on this node's chain (app.js)
  lastMined: null, // hash of the block the Mine button reported last
  historyAddress: null, // the address whose balance history is open
};

// ---------------------------------------------------------------------------------------
// Shared by the actions and the views

export async function busy(button, label, work) {
  const text = button.textContent;
  button.disabled = true;
  button.textContent = label;
  try { await work(); } finally { button.disabled = false; button.textContent = text; }
}

// The Network view's event list (tip moves, reorganisations, in-browser mining).
export function logEvent(text, kind) {
  const list = $('events');
  list.prepend(el('li', { class: kind || '' }, el('time', { text: clock() }), ' ', text));
  while (list.children.length > 20) list.lastChild.remove();
}
