// Many accounts: past a handful, the dashboard lists them one row each (name, host, state,
// expiry, next refresh), to filter, sort and walk with the keyboard, and shows the full card
// of the selected row under the list. The list is a listbox: its rows are the options, the
// keyboard's row is its active descendant, Enter or Space selects. Only the rows in sight
// (and a few either side) exist; each says its place in the whole (aria-posinset, -setsize).
// Filter, order, selection and scroll position stay as they are when the engine's news
// draws the list again.

import { t } from './i18n.js';
import { $, el } from './dom.js';
import { badge, needsAttention, severity } from './state.js';

/** Up to this many connections show as cards, one under another; more show as the list. */
export const CARDS_UP_TO = 4;

/** A row's height in pixels, its border included (`.row` in styles.css). */
const ROW = 52;
/** Rows drawn beyond those in sight, on each side. */
const AROUND = 6;

/** Every connection, as the engine gave them. */
let all = [];
/** Those the filter lets through, in the chosen order: the rows. */
let shown = [];
/** The account whose card shows under the list. */
let selected = null;
/** The account the keyboard is on (the listbox's active descendant). */
let active = null;
/** The list's scroll position as last seen, and the rows drawn: [from, to). */
let top = 0;
let drawn = [0, 0];
let pending = 0;
let drawCard = () => null;
/** Each account's row id, the same across re-renders (`aria-activedescendant` names it). */
const ids = new Map();
let lastId = 0;
let wired = false;

/** Draws the list and the selected card; `focus` (an account) is selected first. */
export function renderList(connections, { card, focus }) {
  if (!wired) wire();
  drawCard = card;
  const before = shown.map((c) => c.account);
  all = connections;
  const known = new Set(all.map((c) => c.account));
  for (const account of ids.keys()) if (!known.has(account)) ids.delete(account);
  shown = listed();
  if (focus && known.has(focus)) selected = active = focus;
  else if (!known.has(selected)) {
    selected = after(before, selected, known) ?? shown[0]?.account ?? all[0]?.account ?? null;
  }
  drawRows();
  if (focus && known.has(focus)) reveal();
  drawDetail();
}

/** Selects `account` (a notification or the tray menu opened the window at it). */
export function showAccount(account) {
  if (!$('accounts').hidden && all.some((c) => c.account === account)) select(account);
}

/** The list has the focus (after a disconnect, say): it keeps it, on the selected row. */
export function focusList() {
  const list = $('account-list');
  if (list.hidden) $('account-filter').focus();
  else list.focus();
}

function listed() {
  const words = $('account-filter').value.trim().toLowerCase();
  const attention = $('attention-only').checked;
  const matches = (c) => (!attention || needsAttention(c))
    && (!words || c.account.toLowerCase().includes(words)
      || (c.name || '').toLowerCase().includes(words));
  return all.filter(matches).sort(ORDERS[$('account-sort').value] || ORDERS.state);
}

/** Code-point order of lower-cased names: no collation tables loaded for a sort. */
const text = (c) => (c.name || c.account).toLowerCase();
const compare = (x, y) => (x < y ? -1 : x > y ? 1 : 0);
const byName = (a, b) => compare(text(a), text(b)) || compare(a.account, b.account);
const expiresAt = (c) => (c.expires_at ? Date.parse(c.expires_at) : Infinity);
const ORDERS = {
  state: (a, b) => severity(a) - severity(b) || byName(a, b),
  // No stated expiry goes last (Infinity - Infinity is NaN, which falls through to the name).
  expiry: (a, b) => expiresAt(a) - expiresAt(b) || byName(a, b),
  name: byName,
};

/** The account listed after `gone` in `order` that is still `known`, else the one before. */
function after(order, gone, known) {
  const at = order.indexOf(gone);
  if (at < 0) return null;
  return order.slice(at + 1).find((a) => known.has(a))
    ?? order.slice(0, at).reverse().find((a) => known.has(a)) ?? null;
}

/** The rows again (the data, the filter or the order changed), at the same scroll position. */
function drawRows() {
  const list = $('account-list');
  if (!shown.some((c) => c.account === active)) {
    active = shown.some((c) => c.account === selected) ? selected : shown[0]?.account ?? null;
  }
  drawn = [-1, -1];
  drawWindow();
  const none = shown.length === 0;
  if (none && document.activeElement === list) $('account-filter').focus();
  list.hidden = none;
  $('account-list-empty').hidden = !none;
  say('accounts-shown', t('ui.list.shown', { shown: shown.length, total: all.length }));
  say('attention-label', t('ui.list.attention', { n: all.filter(needsAttention).length }));
}

/**
 * Draws the rows in sight and a few around them; empty room stands in for the others, so
 * the list scrolls as if all were there. Its height is known without a layout: at most 42 % of
 * the window (styles.css).
 */
function drawWindow() {
  const sight = Math.ceil(Math.max(180, window.innerHeight * 0.42) / ROW) + 1;
  const from = Math.max(0, Math.min(Math.floor(top / ROW), shown.length - sight) - AROUND);
  const to = Math.min(shown.length, from + sight + 2 * AROUND);
  if (from === drawn[0] && to === drawn[1]) return;
  drawn = [from, to];
  // Room for the rows not drawn: elements, since a scrolled box's bottom padding does not
  // count in WebKit's scroll height.
  roomAbove.style.height = `${from * ROW}px`;
  roomBelow.style.height = `${(shown.length - to) * ROW}px`;
  $('account-list').replaceChildren(roomAbove, ...shown.slice(from, to).map((c, i) => row(c, from + i)),
    roomBelow);
  markActive();
}

const room = () => el('div', { class: 'rows-room', 'aria-hidden': 'true' });
const [roomAbove, roomBelow] = [room(), room()];

/** Sets a text only when it changes, so a live region speaks only of a change. */
function say(id, words) {
  const node = $(id);
  if (node.textContent !== words) node.textContent = words;
}

function rowId(account) {
  if (!ids.has(account)) ids.set(account, `account-row-${++lastId}`);
  return ids.get(account);
}

/** One light row: two lines of text and the state's badge. */
function row(c, at) {
  return el('div', { role: 'option', id: rowId(c.account), class: 'row', 'data-testid': 'account-row',
    'data-account': c.account, 'data-state': c.state, 'data-attention': needsAttention(c) ? 'yes' : null,
    'aria-selected': String(c.account === selected), 'aria-posinset': at + 1, 'aria-setsize': shown.length },
  el('span', { class: 'row-line' },
    el('span', { class: 'row-name', 'data-testid': 'row-name', translate: 'no' }, c.name || c.account),
    el('span', { class: 'row-host', 'data-testid': 'row-host', translate: 'no' }, c.account),
    badge(c.state, 'row-state')),
  el('span', { class: 'row-line row-times' },
    el('span', { class: 'row-expires', 'data-testid': 'row-expires' }, expiry(c)),
    el('span', { class: 'row-due', 'data-testid': 'row-due' }, c.due ? c.due.text : c.auto_refresh)));
}

/** "Expires in 23 hours", with the instant for machines and the relative words the clock moves. */
function expiry(c) {
  const w = c.times.expires_at;
  if (!w) return t('ui.list.no_expiry');
  const [before, rest = ''] = t(c.expired ? 'ui.list.expired' : 'ui.list.expires').split('{when}');
  return [before, el('time', { datetime: w.iso, 'data-relative': 'yes', title: w.text },
    el('span', { class: 'rel' }, w.rel)), rest];
}

/** Marks the keyboard's row, if drawn; the list names it as its active descendant. */
function markActive() {
  const list = $('account-list');
  list.querySelector('.row.active')?.classList.remove('active');
  const node = active && document.getElementById(rowId(active));
  if (node) {
    node.classList.add('active');
    list.setAttribute('aria-activedescendant', node.id);
  } else {
    list.removeAttribute('aria-activedescendant');
  }
}

/** Scrolls the keyboard's row into sight, drawn, in the list and in the page. */
function reveal() {
  const at = shown.findIndex((c) => c.account === active);
  if (at < 0) return;
  const list = $('account-list');
  const height = list.clientHeight;
  if (at * ROW < list.scrollTop) list.scrollTop = at * ROW;
  else if ((at + 1) * ROW > list.scrollTop + height) list.scrollTop = (at + 1) * ROW - height;
  top = list.scrollTop;
  drawWindow();
  markActive();
  document.getElementById(rowId(active))?.scrollIntoView({ block: 'nearest' });
}

function select(account) {
  if (!account) return;
  selected = active = account;
  const list = $('account-list');
  for (const r of list.querySelectorAll('[aria-selected="true"]')) r.setAttribute('aria-selected', 'false');
  document.getElementById(rowId(account))?.setAttribute('aria-selected', 'true');
  reveal();
  drawDetail();
}

function drawDetail() {
  const c = all.find((x) => x.account === selected);
  $('account-detail').replaceChildren(...(c ? [drawCard(c)] : []));
}

/** Arrows, Home, End, Page Up and Page Down move the keyboard's row; Enter or Space selects it. */
function onKey(e) {
  if (e.altKey || e.ctrlKey || e.metaKey) return;
  if (e.key === 'Enter' || e.key === ' ') {
    e.preventDefault();
    select(active);
    // The card's head comes into sight under the list, the list staying where it is if it can.
    $('account-detail').querySelector('.card-head')?.scrollIntoView({ block: 'nearest' });
    return;
  }
  const at = shown.findIndex((c) => c.account === active);
  const page = Math.max(1, Math.floor($('account-list').clientHeight / ROW) - 1);
  const to = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: shown.length - 1,
    PageDown: at + page, PageUp: at - page }[e.key];
  if (to === undefined) return;
  e.preventDefault();
  if (!shown.length) return;
  active = shown[Math.max(0, Math.min(shown.length - 1, to))].account;
  reveal();
}

function wire() {
  wired = true;
  const list = $('account-list');
  const again = () => {
    shown = listed();
    drawRows();
  };
  $('account-filter').addEventListener('input', again);
  $('account-filter').addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' && shown.length) {
      e.preventDefault();
      list.focus();
    }
  });
  $('attention-only').addEventListener('change', again);
  $('account-sort').addEventListener('change', () => {
    list.scrollTop = 0;
    top = 0;
    again();
  });
  // Scrolled: the rows now in sight are drawn before the next frame.
  list.addEventListener('scroll', () => {
    top = list.scrollTop;
    pending ||= requestAnimationFrame(() => {
      pending = 0;
      drawWindow();
    });
  }, { passive: true });
  list.addEventListener('keydown', onKey);
  list.addEventListener('click', (e) => {
    const r = e.target.closest('[role="option"]');
    if (!r) return;
    select(r.dataset.account);
    list.focus({ preventScroll: true });
  });
  // A row given the focus itself (the window opened at an account) hands it to the list.
  list.addEventListener('focusin', (e) => {
    const r = e.target !== list && e.target.closest('[role="option"]');
    if (!r) return;
    active = r.dataset.account;
    list.focus({ preventScroll: true });
    markActive();
  });
  list.addEventListener('focus', () => {
    active ??= selected ?? shown[0]?.account ?? null;
    markActive();
  });
  addEventListener('resize', () => drawWindow());
}
