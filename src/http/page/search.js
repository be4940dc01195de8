// The search box (SPEC §5b): a block (its index or hash), a payment (its id) or an
// address, from one field. A payment shows where it is, and when mined its merkle proof
// is checked in this browser: the leaf recomputed, the branch climbed to the merkle root
// with the page's own SHA-256 (sha256Js: Web Crypto is missing on a plain-http page opened
// from another machine), and the header found among headers this page fetched from the
// payment's block to the tip, each one re-hashed, linked and meeting the difficulty.
// An address lists its payments from GET /history, page by page.
import { bytesToHex, concatBytes, headerBytes, hexToBytes, leadingZeroBits, sha256Js, transactionId } from './hash.js';
import { addressView, api, el, formatTime, hashCode, ORIGIN, showResult, short, state, $ } from './ui.js';

const HISTORY_LIMIT = 50; // payments per /history page shown
const MAX_HEADERS = 2000; // most headers one /headers answer holds

let searchTicket = 0;

// What the text in the box names: a block index, a 64-hex id or hash, or an address.
export function classify(text) {
  const query = text.trim();
  if (/^\d+$/.test(query)) return { kind: 'index', value: Number(query) };
  if (/^[0-9a-fA-F]{64}$/.test(query)) return { kind: 'hash', value: query.toLowerCase() };
  return { kind: 'address', value: query };
}

// Runs a search and shows its result in the Search view.
export async function search(text) {
  const ticket = ++searchTicket;
  const out = $('search-result');
  if (location.hash !== '#search') location.hash = '#search';
  const { kind, value } = classify(text);
  if (!value) return showResult(out, 'Type a block index, a block hash, a payment id or an address.', true);
  showResult(out, `Looking up ${kind === 'address' ? 'address' : kind === 'index' ? 'block' : 'id'} ${value}…`);
  try {
    let view;
    if (kind === 'index') view = await blockView(await blockAt(value));
    else if (kind === 'address') view = await addressHistory(value);
    else view = await idOrHash(value);
    if (ticket === searchTicket) out.replaceChildren(view);
  } catch (error) {
    if (ticket === searchTicket) showResult(out, error.message, true);
  }
}

async function blockAt(index) {
  const page = await api(ORIGIN, `/chain?from=${index}&limit=1&brief=1`);
  if (!page.chain.length || Number(page.chain[0].index) !== index) {
    throw new Error(`No block #${index}: this node's chain has ${page.length} blocks.`);
  }
  return page.chain[0];
}

// A 64-hex value: a block hash on this node's chain, else a payment id (asked in this
// order: a hash that is no block costs no failed request).
async function idOrHash(value) {
  const index = await indexOfHash(value);
  if (index !== null) return blockView(await blockAt(index));
  try {
    return await paymentView(await api(ORIGIN, `/transactions/${value}?brief=1`));
  } catch (error) {
    if (error.status === 404) throw new Error(`${value} is neither a block of this node's chain nor a payment it knows (in its chain or pool).`);
    throw error;
  }
}

// The index of the block with this hash, from /headers with it as the locator.
async function indexOfHash(hash) {
  const answer = await api(ORIGIN, `/headers?locator=${hash}&limit=1`);
  // No header after it: the hash was found, and is the tip (one not found starts at genesis).
  if (answer.headers.length === 0) return Number(answer.length);
  const first = answer.headers[0];
  return first.previous_hash === hash ? Number(first.index) - 1 : null;
}

function field(name, ...value) {
  return [el('dt', { text: name }), el('dd', {}, ...value)];
}

function idButton(id) {
  return el('button', { type: 'button', class: 'link-button search-id', title: id, text: short(id), dataset: { id },
    onclick: () => { $('search-input').value = id; search(id); } });
}

function blockView(block) {
  return el('article', { class: 'card search-block', 'aria-label': `Block ${block.index}` },
    el('h3', { text: `Block #${block.index}` }),
    el('dl', { class: 'fields' },
      ...field('hash', hashCode(block.hash)),
      ...field('previous hash', hashCode(block.previous_hash)),
      ...field('merkle root', hashCode(block.merkle_root)),
      ...field('time', formatTime(block.timestamp)),
      ...field('transactions', String(block.transactions.length))),
    el('ol', { class: 'search-txs', start: 0 }, ...block.transactions.map((tx) =>
      el('li', {}, idButton(tx.id), ' ', addressView(tx.sender), ' → ', addressView(tx.recipient), ` ${tx.amount}`))));
}

// ---------------------------------------------------------------------------------------
// A payment, and its proof checked here

async function paymentView(found) {
  const tx = found.transaction;
  const mined = found.status === 'mined';
  const article = el('article', { class: 'card search-payment', dataset: { status: found.status } },
    el('h3', { text: 'Payment' }),
    el('dl', { class: 'fields' },
      ...field('id', el('code', { class: 'hex', text: tx.id })),
      ...field('status', el('strong', { class: 'payment-status', text: mined
        ? `mined in block #${found.block.index}, ${found.confirmations} confirmation${found.confirmations === 1 ? '' : 's'}`
        : 'pooled: waiting for a block (0 confirmations)' })),
      ...field('from', addressView(tx.sender)),
      ...field('to', addressView(tx.recipient)),
      ...field('amount', String(tx.amount)),
      ...field('time', formatTime(tx.timestamp))));
  if (mined) article.append(await proofView(tx.id));
  return article;
}

// SPEC §3: a transaction's leaf hash, the id or SHA-256(id ‖ signature bytes).
function leafOf(tx, id) {
  if (!tx.signature) return id;
  return bytesToHex(sha256Js(concatBytes(hexToBytes(id), hexToBytes(tx.signature))));
}

const pair = (left, right) => bytesToHex(sha256Js(concatBytes(hexToBytes(left), hexToBytes(right))));

// Every check of the proof, each a line with ✓ or ✗; `data-proven` says whether all passed.
async function proofView(id) {
  const proof = await api(ORIGIN, `/transactions/${id}/proof`);
  const checks = [];
  const line = (passed, text) => { checks.push([passed, text]); return passed; };
  const tx = proof.transaction;
  const computedId = bytesToHex(await transactionId(tx));
  line(computedId === id, `the transaction's fields hash to its id ${short(id)}`);
  const leaf = leafOf(tx, computedId);
  line(leaf === proof.leaf, `its leaf hash ${short(leaf)} (${tx.signature ? 'SHA-256 of id and signature' : 'its id'}) is the proof's leaf`);
  let current = leaf;
  const steps = proof.branch.map((step, level) => {
    current = step.side === 'left' ? pair(step.hash, current) : pair(current, step.hash);
    return el('li', {}, `level ${level + 1}: ${step.side === 'left' ? `SHA-256(${short(step.hash)} ‖ ·)` : `SHA-256(· ‖ ${short(step.hash)})`} = `,
      el('code', { class: 'hex', text: short(current) }));
  });
  const header = proof.header;
  line(current === header.merkle_root,
    `the branch (${proof.branch.length} step${proof.branch.length === 1 ? '' : 's'}) climbs to the header's merkle root ${short(header.merkle_root)}`);
  // The page's own headers, from the payment's block to the tip.
  const index = Number(header.index);
  const headers = [];
  let length = index;
  for (let from = index; ;) {
    const page = await api(ORIGIN, `/headers?from=${from}&limit=${MAX_HEADERS}`);
    headers.push(...page.headers);
    length = Number(page.length);
    if (!page.headers.length || from + page.headers.length > length) break;
    from += page.headers.length;
    if (from > length) break;
  }
  const difficulty = state.inv ? Number(state.inv.difficulty) : Number(header.difficulty);
  let chainOk = headers.length > 0;
  headers.forEach((h, i) => {
    const bytes = sha256Js(headerBytes(h));
    const hash = bytesToHex(bytes);
    if (hash !== h.hash || leadingZeroBits(bytes) < difficulty || Number(h.difficulty) !== difficulty) chainOk = false;
    if (i > 0 && h.previous_hash !== headers[i - 1].hash) chainOk = false;
  });
  line(chainOk, `${headers.length} header${headers.length === 1 ? '' : 's'} fetched here (#${index}–#${index + headers.length - 1}): each re-hashed, linked to the one before and meeting difficulty ${difficulty}`);
  const own = headers[0];
  const sameHeader = own && ['index', 'timestamp', 'previous_hash', 'merkle_root', 'difficulty', 'proof', 'hash']
    .every((name) => String(own[name]) === String(header[name]));
  line(Boolean(sameHeader), `the proof's header is header #${index} of those headers`);
  const confirmations = headers.length;
  const proven = checks.every(([passed]) => passed);
  return el('section', { class: 'proof', dataset: { proven: String(proven), confirmations: String(confirmations) }, 'aria-label': 'Merkle proof' },
    el('h4', { text: 'Merkle proof, checked in this browser' }),
    el('ol', { class: 'proof-steps' }, ...steps),
    el('ul', { class: 'proof-checks' }, ...checks.map(([passed, text]) =>
      el('li', { class: passed ? 'ok' : 'bad', text: `${passed ? '✓' : '✗'} ${text}` }))),
    el('p', { class: proven ? 'ok proof-verdict' : 'bad proof-verdict', text: proven
      ? `✓ proven: in block #${index}, buried under ${confirmations - 1} later block${confirmations === 2 ? '' : 's'} (${confirmations} confirmation${confirmations === 1 ? '' : 's'}).`
      : '✗ the proof does not check: do not trust this node about this payment.' }));
}

// ---------------------------------------------------------------------------------------
// An address: GET /history, newest first, page by page

async function addressHistory(address) {
  const body = el('tbody');
  const status = el('p', { class: 'note' });
  const more = el('button', { type: 'button', text: 'Older payments', hidden: true });
  const table = el('table', { class: 'search-history' },
    el('caption', {}, 'Payments of ', addressView(address), ', newest first (GET /history)'),
    el('thead', {}, el('tr', {}, ...['block', 'payment', 'with', 'amount', 'balance after'].map((name) =>
      el('th', { scope: 'col', text: name })))),
    body);
  let before = null;
  const load = async () => {
    const query = `/history?address=${encodeURIComponent(address)}&limit=${HISTORY_LIMIT}${before === null ? '' : `&before=${before}`}`;
    const page = await api(ORIGIN, query);
    for (const item of page.history) {
      const amount = Number(item.amount);
      body.append(el('tr', { dataset: { id: item.id, block: item.block === null ? 'pool' : String(item.block) } },
        el('td', { text: item.block === null ? 'pool' : `#${item.block}` }),
        el('td', {}, idButton(item.id)),
        el('td', {}, item.counterparty === '0' ? el('span', { text: 'block reward' }) : addressView(item.counterparty)),
        el('td', { class: amount < 0 ? 'num bad' : 'num ok', text: amount < 0 ? `−${-amount}` : `+${amount}` }),
        el('td', { class: 'num', text: String(item.balance_after) })));
    }
    status.textContent = `balance on the chain: ${page.balance}; ${body.rows.length} payment${body.rows.length === 1 ? '' : 's'} shown`;
    before = page.next;
    more.hidden = before === null;
  };
  more.addEventListener('click', () => load().catch((error) => showResult(status, error.message, true)));
  await load();
  if (!body.rows.length) body.append(el('tr', {}, el('td', { colspan: 5, class: 'note', text: 'No payment to or from this address.' })));
  return el('div', { class: 'search-address' }, status, el('div', { class: 'table-wrap' }, table), more);
}

// ---------------------------------------------------------------------------------------
// Wiring

$('search-form').addEventListener('submit', (event) => {
  event.preventDefault();
  search($('search-input').value);
});
