// minichain explorer: a client of the node's JSON routes, nothing more. This module holds
// the Chain and Pool views, the actions, live polling and start-up; see hash.js (SPEC §3
// in the browser), ui.js (shared helpers and state), network.js and tamper.js.
import { blockMerkleRoot, bytesToHex, headerBytes, headerFields, sha256, sha256Js, transactionId } from './hash.js';
import { markUnreachable, nodeLabel, orphanSentence, refreshNetwork } from './network.js';
import { loadTamper, openTamper, renderTamper, tamperStarted } from './tamper.js';
import { search } from './search.js';
import { addressView, api, blockLabel, busy, clock, COINBASE_SENDER, describeAddress, el, formatTime, hashCode, logEvent, onLoopback, ORIGIN, ownerToken, paysThisNode, relabel, setOwnerToken, short, showResult, state, TOKEN_PATTERN, $ } from './ui.js';

const PAGE_SIZE = 10; // blocks per chain page
const POLL_MS = 1500; // this node: /inv?limit=0 (length, tip, pool ids)
const PEER_POLL_MS = 3000; // peers: their /inv?limit=0, and their last blocks when the tip moved
const RECENT_BLOCKS = 60; // blocks of this node's chain remembered, to notice one cut away
const HISTORY_PAGE = 500; // blocks per /chain read of the balance history
const ORPHAN_NOTES = 3; // orphan notes kept in the header

// ---------------------------------------------------------------------------------------
// Views

function showView(event) {
  const name = (location.hash || '#chain').slice(1);
  const view = ['chain', 'network', 'pool', 'tamper', 'search'].includes(name) ? name : 'chain';
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
  if (view === 'tamper' && state.tamper.blocks.length === 0 && state.inv && !tamperStarted()) loadTamper();
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
  page.chain.forEach(remember);
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
      el('td', { class: 'addr-cell' }, addressView(tx.sender)),
      el('td', { class: 'addr-cell' }, addressView(tx.recipient)),
      el('td', { class: 'num', text: String(tx.amount) }),
      el('td', { text: formatTime(tx.timestamp) }))))));
}

// ---------------------------------------------------------------------------------------
// Pool, balances, wallet

async function refreshPool() {
  const [pool, balances] = await Promise.all([api(ORIGIN, '/pool'), api(ORIGIN, '/balances')]);
  const poolRows = pool.pool.map((tx) => el('tr', { dataset: { id: tx.id } },
    el('td', {}, el('code', { title: tx.id, text: short(tx.id) })),
    el('td', { class: 'addr-cell' }, addressView(tx.sender)),
    el('td', { class: 'addr-cell' }, addressView(tx.recipient)),
    el('td', { class: 'num', text: String(tx.amount) }),
    el('td', { text: formatTime(tx.timestamp) })));
  $('pool-table').tBodies[0].replaceChildren(...(poolRows.length ? poolRows :
    [el('tr', {}, el('td', { colspan: 5, class: 'note', text: 'The pool is empty.' }))]));
  const entries = Object.entries(balances.balances).sort((a, b) => Number(b[1]) - Number(a[1]));
  $('balances-table').tBodies[0].replaceChildren(...(entries.length ? entries.map(([address, coins]) =>
    el('tr', {}, el('td', { class: 'addr-cell' }, addressView(address)), el('td', { class: 'num', text: String(coins) }))) :
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
    state.selfWallet = { address: wallet.address, retired: wallet.retired || [] };
    relabel();
    $('from-wallet').disabled = false;
    const retired = state.selfWallet.retired;
    box.replaceChildren(
      el('dt', { text: 'address' }), el('dd', {}, addressView(wallet.address),
        el('details', { class: 'whole-key' }, el('summary', { text: 'whole key (to copy)' }),
          el('code', { class: 'hex', text: wallet.address }))),
      el('dt', { text: 'balance' }), el('dd', { text: String(wallet.balance) }),
      el('dt', { text: 'signatures used / left' }), el('dd', { text: `${wallet.leaves_used} / ${wallet.leaves_left} (tree height ${wallet.height})` }),
      el('dt', { text: 'earlier keys' }), el('dd', { class: 'key-list' }, retired.length ? retired.map((a) => addressView(a)) : 'none'));
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
// Owner token (SPEC §5a): Mine and payments from the node's wallet are its owner's actions.

function renderToken(message, isError) {
  const saved = ownerToken();
  $('token-file').textContent = tokenFile();
  $('owner-card').dataset.token = saved ? 'saved' : 'none';
  $('token-forget').disabled = !saved;
  $('owner-where').textContent = onLoopback() ?
    'This page is open on the node\'s own machine: Mine and payments from its wallet need no token here.' :
    `This page is open from another machine (${location.host}): the node takes Mine and payments from its wallet only with its owner token.`;
  showResult($('token-status'), message || (saved ?
    'A token is saved for this browser session; it goes with Mine and wallet payments to this node only.' :
    'No token saved.'), isError);
}

function saveToken(event) {
  event.preventDefault();
  const input = $('owner-token');
  const token = input.value.trim().toLowerCase();
  if (!TOKEN_PATTERN.test(token)) {
    renderToken(`That is not a token: it must be the 64 hex characters of ${tokenFile()} (got ${token.length} character${token.length === 1 ? '' : 's'}).`, true);
    input.focus();
    return;
  }
  setOwnerToken(token);
  input.value = '';
  renderToken('Token saved for this browser session; it goes with Mine and wallet payments to this node only.');
}

function forgetToken() {
  setOwnerToken('');
  $('owner-token').value = '';
  renderToken('Token forgotten.');
}

// Where the node keeps its owner token: the path its 403 names (data/5000/owner.token),
// learnt from the first refusal; before that, the default for this port.
let tokenPath = null;
function tokenFile() {
  return tokenPath || `data/${location.port || '80'}/owner.token`;
}

// A refusal of an owner action: the node's own words, then where the token goes.
function refusal(prefix, error) {
  if (error.status !== 403) return `${prefix}: ${error.message}`;
  const named = /([^\s`()$]*owner\.token)/.exec(error.message || '');
  if (named) {
    tokenPath = named[1];
    $('token-file').textContent = tokenPath;
  }
  const hint = ownerToken() ?
    `The token saved in this page was not accepted: paste the current one from ${tokenFile()} into Owner token.` :
    `This node only takes that from its owner: paste the token from ${tokenFile()} into Owner token.`;
  $('owner-card').dataset.token = ownerToken() ? 'refused' : 'needed';
  return [el('span', { class: 'server-says', text: `Refused (403): ${error.message}` }),
    el('span', { class: 'owner-hint' }, hint, ' ',
      el('button', { type: 'button', class: 'link-button', text: 'Go to Owner token', onclick: () => $('owner-token').focus() }))];
}

// ---------------------------------------------------------------------------------------
// Actions


async function mine() {
  const output = $('mine-result');
  await busy($('mine'), 'Mining…', async () => {
    try {
      const block = await api(ORIGIN, '/mine', { method: 'POST', timeout: 600000, owner: true });
      // Its coinbase names who this node's rewards pay (--miner, else its wallet).
      const coinbase = block.transactions[0];
      if (coinbase && coinbase.sender === COINBASE_SENDER) { state.miner = coinbase.recipient; relabel(); }
      remember(block);
      state.lastMined = block.hash;
      delete output.dataset.orphaned;
      showResult(output, [`Block #${block.index} `, hashCode(block.hash),
        `: ${block.attempts} attempts in ${block.elapsed_ms} ms (${Number(block.hash_rate).toLocaleString('en')} hashes/s), ${block.transactions.length} transaction${block.transactions.length === 1 ? '' : 's'}.`]);
      await poll();
    } catch (error) {
      showResult(output, refusal('Mining failed', error), true);
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
      // Without a sender the node's wallet signs: an owner action.
      const answer = await api(ORIGIN, '/transactions/new', { method: 'POST', body, owner: fromWallet });
      const tx = answer.transaction;
      showResult(output, [`${answer.message}: ${tx.amount} from `, addressView(tx.sender),
        ' to ', addressView(tx.recipient), ' (id ', el('code', { text: short(tx.id) }), ').']);
      await poll();
    } catch (error) {
      showResult(output, refusal('Refused', error), true);
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
// Orphaned blocks: a block this node mined that a longer chain from a peer cut away. The
// page remembers the blocks it saw on this node's chain (chain pages, Mine answers); when
// the tip moves it asks the node which of them it still holds (GET /inv with those hashes
// as the locator: fork_index is the newest one held), and says so when a cut one paid
// this node's miner.

// Remembers a block seen on this node's chain.
function remember(block) {
  const coinbase = block.transactions[0];
  const reward = coinbase && coinbase.sender === COINBASE_SENDER ? coinbase : null;
  state.recent.set(block.hash, {
    index: Number(block.index), hash: block.hash,
    recipient: reward ? reward.recipient : null, reward: reward ? BigInt(reward.amount) : 0n,
    payments: block.transactions.filter((tx) => tx.sender !== COINBASE_SENDER).map((tx) => tx.id),
  });
  if (state.recent.size > RECENT_BLOCKS) {
    const oldest = [...state.recent.values()].reduce((a, b) => (b.index < a.index ? b : a));
    state.recent.delete(oldest.hash);
  }
}

async function findCutBlocks(inv) {
  const known = [...state.recent.values()].sort((a, b) => b.index - a.index);
  if (known.length === 0) return;
  let held;
  try {
    // Most tip moves only extend the chain: the newest block seen is still there (and so are
    // the ones before it). Only when it is gone are all the remembered hashes sent.
    const newest = known[0];
    held = await api(ORIGIN, `/inv?limit=0&locator=${newest.hash}`, { timeout: 5000 });
    if (Number(held.fork_index) === newest.index) return;
    held = await api(ORIGIN, `/inv?limit=0&locator=${known.map((b) => b.hash).join(',')}`, { timeout: 5000 });
  } catch {
    return; // asked again at the next tip move
  }
  // Forgotten as soon as found, so two polls never report a block twice.
  const cut = known.filter((b) => b.index > held.fork_index && state.recent.delete(b.hash));
  const ours = cut.filter((b) => b.recipient !== null && paysThisNode(b.recipient)).reverse();
  if (ours.length) reportOrphans(ours, inv);
}

// "#5", "#5 and #6", "#4, #5 and #6"
function listWords(words) {
  return words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}

function orphanNote(blocks, inv) {
  const one = blocks.length === 1;
  const it = one ? 'it' : 'them';
  const its = one ? 'its' : 'their';
  const numbers = listWords(blocks.map((b) => `#${b.index}`));
  const highest = Math.max(...blocks.map((b) => b.index));
  const why = inv.length >= highest ?
    `${one ? ' was' : ' were'} orphaned: a peer's longer chain replaced ${it} (this node's chain is now ${inv.length} blocks, tip ${blockLabel(inv.length, inv.tip)}).` :
    `${one ? ' is' : ' are'} gone: this node's chain was started again (POST /restart) and has ${inv.length} block${inv.length === 1 ? '' : 's'} now.`;
  const reward = blocks.reduce((sum, b) => sum + b.reward, 0n);
  const paid = [...new Set(blocks.map((b) => b.recipient))].map((r) => {
    const { text, label, kind } = describeAddress(r);
    return kind === 'name' || !label ? text : `${text}, ${label}`;
  }).join(', ');
  const pool = new Set(inv.values.filter((v) => v.type === 'transaction').map((v) => v.value));
  const payments = blocks.flatMap((b) => b.payments);
  const back = payments.filter((id) => pool.has(id)).length;
  const plural = (n) => `${n} payment${n === 1 ? '' : 's'}`;
  let fate;
  if (payments.length === 0) fate = `${one ? 'it' : 'they'} held no payments`;
  else if (back === payments.length) fate = `${its} ${plural(back)} went back to the pool`;
  else if (back === 0) fate = `${its} ${plural(payments.length)} did not go back to the pool: they are in the new chain already or no longer valid`;
  else fate = `of ${its} ${plural(payments.length)}, ${back} went back to the pool; the others are in the new chain already or no longer valid`;
  return `Your block${one ? '' : 's'} ${numbers}${why} ${one ? 'Its reward' : 'Their rewards'} (${reward} to ${paid}) ${one ? 'is' : 'are'} gone; ${fate}.`;
}

function reportOrphans(blocks, inv) {
  const note = orphanNote(blocks, inv);
  const box = $('orphans');
  const notes = [el('p', { class: 'orphan-note', dataset: { blocks: blocks.map((b) => b.index).join(',') } },
    el('time', { text: clock() }), ' ', note),
  ...box.querySelectorAll('.orphan-note')].slice(0, ORPHAN_NOTES);
  box.replaceChildren(...notes, el('button', { type: 'button', class: 'link-button', text: 'Dismiss',
    onclick: () => box.replaceChildren() }));
  logEvent(note, 'reorg');
  // The Mine button's last word was "Block #N …"; it is not the last word when #N is gone.
  if (blocks.some((b) => b.hash === state.lastMined)) {
    const output = $('mine-result');
    output.dataset.orphaned = 'true';
    showResult(output, note);
  }
}

// ---------------------------------------------------------------------------------------
// Balance history of an address: the blocks that changed it. Blocks are read in pages of
// HISTORY_PAGE (?brief=signatures: no signature hex, keys whole) and kept, a prefix of this node's chain; a
// later look asks the node which cached blocks it still holds (GET /inv, a locator of
// cached hashes) and reads only the rest.

const blockCache = []; // blockCache[i]: block i + 1 as {index, hash, previous_hash, timestamp, txs}
let cacheQueue = Promise.resolve();
let historyTicket = 0;

function syncBlockCache(length, progress) {
  const run = cacheQueue.then(() => readBlocks(length, progress));
  cacheQueue = run.catch(() => {});
  return run;
}

async function readBlocks(length, progress) {
  if (blockCache.length) {
    const locator = [];
    for (let i = blockCache.length - 1, step = 1; i >= 0; i -= step, step = locator.length < 8 ? 1 : step * 2) {
      locator.push(blockCache[i].hash);
    }
    const held = await api(ORIGIN, `/inv?limit=0&locator=${locator.join(',')}`, { timeout: 10000 });
    blockCache.length = Math.min(blockCache.length, Number(held.fork_index));
  }
  for (let restarts = 0; blockCache.length < length;) {
    const from = blockCache.length + 1;
    const limit = Math.min(HISTORY_PAGE, length - from + 1);
    const page = await api(ORIGIN, `/chain?from=${from}&limit=${limit}&brief=signatures`, { timeout: 30000 });
    if (page.chain.length === 0) break; // the chain is shorter now
    for (const block of page.chain) {
      const last = blockCache[blockCache.length - 1];
      if (last && block.previous_hash !== last.hash) {
        // The chain changed between two reads: read it again from the start (twice at most).
        if (++restarts > 2) throw new Error('the chain keeps changing while it is read; try again');
        blockCache.length = 0;
        break;
      }
      blockCache.push({
        index: Number(block.index), hash: block.hash, previous_hash: block.previous_hash, timestamp: block.timestamp,
        txs: block.transactions.map((tx) => ({ id: tx.id, sender: tx.sender, recipient: tx.recipient, amount: BigInt(tx.amount) })),
      });
    }
    progress(blockCache.length, length);
  }
}

// The blocks that changed `address`'s balance, oldest first, with the balance after each.
function historyOf(address) {
  let balance = 0n;
  const rows = [];
  for (const block of blockCache) {
    let received = 0n;
    let sent = 0n;
    let reward = false;
    const from = new Set();
    const to = new Set();
    for (const tx of block.txs) {
      const coinbase = tx.sender === COINBASE_SENDER;
      if (tx.recipient === address) {
        received += tx.amount;
        if (coinbase) reward = true; else from.add(tx.sender);
      }
      if (!coinbase && tx.sender === address) { sent += tx.amount; to.add(tx.recipient); }
    }
    if (received || sent) {
      balance += received - sent;
      rows.push({ block, received, sent, balance, reward, from: [...from], to: [...to] });
    }
  }
  return { rows, balance };
}

function openHistory(address) {
  state.historyAddress = address;
  const dialog = $('history');
  if (!dialog.open) dialog.showModal();
  $('history-table').tBodies[0].replaceChildren();
  renderHistory();
}

async function renderHistory() {
  const ticket = ++historyTicket;
  const address = state.historyAddress;
  const about = describeAddress(address);
  $('history-who').replaceChildren(addressView(address, { history: false }),
    about.kind === 'name' ? ' — a name: an open account, anyone may spend from it' : el('code', { class: 'hex', text: address }));
  const status = $('history-status');
  const length = state.inv.length;
  status.textContent = `Reading this node's chain (${length} blocks, ${HISTORY_PAGE} a read)…`;
  try {
    await syncBlockCache(length, (done, of) => {
      if (ticket === historyTicket) status.textContent = `Read blocks 1–${done} of ${of}…`;
    });
    const node = await api(ORIGIN, `/balances?address=${encodeURIComponent(address)}`);
    if (ticket !== historyTicket) return;
    const { rows, balance } = historyOf(address);
    const agrees = String(node.balance) === String(balance);
    status.replaceChildren(`${rows.length} of ${blockCache.length} blocks changed this balance; balance after block #${blockCache.length}: ${balance}. `,
      el('span', { class: agrees ? 'ok' : 'bad', text: agrees ? `✓ the node's /balances says ${node.balance} too.` :
        `✗ the node's /balances says ${node.balance} (its chain moved while this was read?).` }));
    $('history-table').tBodies[0].replaceChildren(...(rows.length ? rows.slice().reverse().map((row) => historyRow(row)) :
      [el('tr', {}, el('td', { colspan: 6, class: 'note', text: 'No block has changed this balance.' }))]));
  } catch (error) {
    if (ticket === historyTicket) showResult(status, `Could not read the chain: ${error.message}`, true);
  }
}

function historyRow({ block, received, sent, balance, reward, from, to }) {
  const what = [];
  if (reward) what.push(el('span', { class: 'what', text: 'block reward' }));
  if (from.length) what.push(el('span', { class: 'what' }, 'from ', ...from.flatMap((a, i) => [i ? ', ' : '', addressView(a)])));
  if (to.length) what.push(el('span', { class: 'what' }, 'to ', ...to.flatMap((a, i) => [i ? ', ' : '', addressView(a)])));
  return el('tr', { dataset: { index: block.index, received: String(received), sent: String(sent), balance: String(balance) } },
    el('td', {}, el('button', { type: 'button', class: 'link-button', title: `Show block #${block.index} in the Chain view`,
      text: `#${block.index}`, onclick: () => showBlock(block) })),
    el('td', { text: formatTime(block.timestamp) }),
    el('td', {}, what),
    el('td', { class: 'num ok', text: received ? `+${received}` : '' }),
    el('td', { class: 'num bad', text: sent ? `−${sent}` : '' }),
    el('td', { class: 'num', text: String(balance) }));
}

// Closes the history and opens a block's card in the Chain view.
async function showBlock(block) {
  $('history').close();
  const length = state.inv.length;
  const top = Math.max(Math.min(PAGE_SIZE, length), block.index + 4);
  state.chainTop = top >= length ? null : top;
  state.open.add(block.hash);
  if (location.hash !== '#chain') location.hash = '#chain';
  await refreshChain();
  const card = document.querySelector(`#blocks .block-card[data-hash="${block.hash}"]`);
  if (card) { card.scrollIntoView({ block: 'start' }); card.querySelector('button')?.focus({ preventScroll: true }); }
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
    const previous = state.inv;
    state.inv = inv;
    state.poolKey = poolKey;
    renderHeader();
    if (tipMoved && previous) await findCutBlocks(inv);
    if (tipMoved) await refreshChain();
    if (tipMoved || poolMoved) await refreshPool();
    if (tipMoved && $('history').open) renderHistory();
    if (tipMoved || Date.now() - lastPeerPoll > PEER_POLL_MS) {
      lastPeerPoll = Date.now();
      refreshNetwork().catch(() => {});
    }
  } catch (error) {
    setLive(false, error);
    markUnreachable(ORIGIN, error.message);
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
  renderToken();
  $('token-form').addEventListener('submit', saveToken);
  $('token-forget').addEventListener('click', forgetToken);
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
  // Any address shown as a button opens its balance history.
  document.addEventListener('click', (event) => {
    const button = event.target.closest('button.addr[data-address]');
    if (button) openHistory(button.dataset.address);
  });
  $('history-close').addEventListener('click', () => $('history').close());
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
    if (!$('view-tamper').hidden && !tamperStarted()) loadTamper();
  });
}

// Exposed for the browser test (scripts/browser-test.sh) to check the hashing against
// known answers; the page itself does not use it.
window.minichain = { transactionId, blockMerkleRoot, headerBytes, sha256, sha256Js, bytesToHex, refreshNetwork, orphanSentence, search };

start();
