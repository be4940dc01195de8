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
