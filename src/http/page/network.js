// The Network view: this node and its peers (GET /nodes, or GET /nodes/register on a node
// without it), each peer's tip read directly from the browser (its public reads carry
// CORS), and the fork tree of every node's last TREE_WINDOW blocks.
import { api, blockLabel, el, formatTime, logEvent, onLoopback, ORIGIN, relabel, state, svg, $ } from './ui.js';

const TREE_WINDOW = 20; // blocks of every node in the fork tree
const WALLET_EVERY_MS = 30000; // a peer's GET /wallet is read again after this (or when its tip moves)

// ---------------------------------------------------------------------------------------
// Network and fork tree

export function nodeLabel(url) {
  return url === ORIGIN ? 'this node' : url.replace(/^http:\/\//, '');
}

async function loadPeers() {
  if (state.nodesRoute !== false) {
    try {
      const answer = await api(ORIGIN, '/nodes');
      state.nodesRoute = true;
      state.reachableAt = answer.reachable_at || [];
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

// A peer the node lists at a loopback address (127.0.0.1:5001) is on the node's machine.
// A page opened from another machine cannot reach it (its own 127.0.0.1 is the browser's
// machine), so it is not asked: the node's /nodes tells its length and tip.
function onNodesMachineOnly(url) {
  if (url === ORIGIN || onLoopback()) return false;
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

// Reads one node's length and tip, and its last TREE_WINDOW blocks when its tip moved.
async function probeNode(url) {
  const known = state.nodes.get(url) || { url, label: nodeLabel(url), self: url === ORIGIN, window: [] };
  if (onNodesMachineOnly(url)) {
    const info = state.peerInfo.get(url) || {};
    Object.assign(known, { length: info.length ?? null, tip: info.tip ?? null, error: null, nodesMachine: true });
    state.nodes.set(url, known);
    return known;
  }
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


export async function refreshNetwork() {
  if (state.networkBusy || !state.inv) return;
  state.networkBusy = true;
  try {
    let peers = state.peers;
    try {
      peers = await loadPeers();
      const reach = state.reachableAt || [];
      $('nodes-note').textContent = !state.nodesRoute ?
        'This node has no GET /nodes route; its peers come from GET /nodes/register.' :
        reach.length > 0 ?
          `Other machines reach this node at ${reach.join(' or ')}: give classmates that address.` :
          'Only this machine reaches this node (bound to 127.0.0.1); start it with --host 0.0.0.0 to let classmates in.';
    } catch (error) {
      $('nodes-note').textContent = `Could not list peers: ${error.message}`;
    }
    state.peers = peers;
    const urls = [ORIGIN, ...peers.filter((p) => p !== ORIGIN)];
    for (const url of state.nodes.keys()) if (!urls.includes(url)) state.nodes.delete(url);
    const nodes = await Promise.all(urls.map(probeNode));
    renderNodes(nodes);
    renderTree(nodes);
    for (const url of state.peerWallets.keys()) if (!peers.includes(url)) state.peerWallets.delete(url);
    await Promise.all(nodes.filter((n) => !n.self && !n.error && !n.nodesMachine).map(readPeerWallet));
    relabel();
  } finally {
    state.networkBusy = false;
  }
}

// A peer's wallet (its GET /wallet, readable from any page), to label its addresses.
async function readPeerWallet(node) {
  const known = state.peerWallets.get(node.url);
  if (known && known.tip === node.tip && Date.now() - known.at < WALLET_EVERY_MS) return;
  try {
    const wallet = await api(node.url, '/wallet', { timeout: 4000 });
    state.peerWallets.set(node.url, { address: wallet.address, retired: wallet.retired || [], tip: node.tip, at: Date.now() });
  } catch (error) {
    // No /wallet there (an older node) or no answer: its addresses stay unlabelled.
    state.peerWallets.set(node.url, { address: known?.address ?? null, retired: known?.retired ?? [], tip: node.tip, at: Date.now() });
  }
}

// Orphaned blocks (drawn dashed) outlive a reload: kept in this browser's localStorage
// per network (genesis hash), at most ORPHANS_KEPT; they are public blocks, not secrets.
const ORPHANS_KEPT = 100;
let keptOrphans = null; // hash -> block, loaded once

function rememberOrphans(live, minIndex) {
  const key = `minichain.orphans.${state.inv.genesis || ORIGIN}`;
  try {
    if (keptOrphans === null) {
      keptOrphans = new Map(JSON.parse(localStorage.getItem(key) || '[]').map((b) => [b.hash, b]));
      for (const block of keptOrphans.values()) if (!state.seen.has(block.hash)) state.seen.set(block.hash, block);
    }
    const before = keptOrphans.size;
    for (const block of state.seen.values()) {
      if (!live.has(block.hash) && block.index >= minIndex && !keptOrphans.has(block.hash)) keptOrphans.set(block.hash, block);
    }
    if (keptOrphans.size === before) return;
    const newest = [...keptOrphans.values()].slice(-ORPHANS_KEPT);
    keptOrphans = new Map(newest.map((b) => [b.hash, b]));
    localStorage.setItem(key, JSON.stringify(newest));
  } catch {
    keptOrphans = keptOrphans || new Map(); // storage refused: kept for this page only
  }
}

// "1 orphaned block (dashed) was cut away", "2 orphaned blocks (dashed) were cut away".
export function orphanSentence(count) {
  return count === 1 ? '1 orphaned block (dashed) was cut away.' : `${count} orphaned blocks (dashed) were cut away.`;
}

// This node stopped answering the page's polls: its row says so until it answers again.
export function markUnreachable(url, message) {
  const node = state.nodes.get(url);
  if (!node) return;
  node.error = message;
  renderNodes([...state.nodes.values()]);
}

function renderNodes(nodes) {
  $('nodes-table').tBodies[0].replaceChildren(...nodes.map((node) => {
    const info = state.peerInfo.get(node.url);
    const seen = node.self ? '—' : info ?
      `${info.status}${info.failures ? `, ${info.failures} failures` : ''}${info.last_seen_ms ? `, last seen ${formatTime(info.last_seen_ms)}` : ''}` :
      'registered';
    return el('tr', { dataset: { node: node.url, state: node.error ? 'down' : 'up' } },
      el('th', { scope: 'row' }, el('code', { text: node.url }), node.self ? el('span', { class: 'tag', text: 'this node' }) : null),
      el('td', { class: node.error ? 'bad' : 'ok', text: node.error ? `unreachable from the browser (${node.error})` :
        node.nodesMachine ? `this machine's: ${info?.status ?? 'registered'} as the node sees it (the browser cannot reach the node's 127.0.0.1)` : 'up' }),
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
  rememberOrphans(live, minIndex);
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
    `One branch: every node is on the same chain, the shorter ones only behind. Longest tip ${describe(best)}.${orphanCount ? ` ${orphanSentence(orphanCount)}` : ''}`;
}
