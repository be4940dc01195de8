// The Tamper view: an editable copy of a few blocks, re-hashed in the browser on every
// keystroke, showing the proof of work fail and every later block's link break.
import { blockMerkleRoot, bytesToHex, headerBytes, leadingZeroBits, sha256 } from './hash.js';
import { api, busy, el, hashCode, logEvent, ORIGIN, short, state, $ } from './ui.js';

const TAMPER_WINDOW = 6; // blocks loaded into the tamper view

// ---------------------------------------------------------------------------------------
// Tamper view

export function openTamper(index) {
  $('tamper-from').value = index;
  location.hash = '#tamper';
  loadTamper();
}

let tamperLoads = 0; // only the latest load renders

// Whether the view has loaded (or is loading) blocks at least once.
export const tamperStarted = () => tamperLoads > 0;

export async function loadTamper(event) {
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

export function renderTamper() {
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
