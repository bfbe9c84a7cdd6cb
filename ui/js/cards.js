// Token status: a card per connected account, with Refresh, Test connection and Disconnect.

import { call } from './tauri.js';
import { formatDateTime, relative, t } from './i18n.js';
import { $, busy, el, errorBox } from './dom.js';
import { confirmDialog } from './dialog.js';

/** Per-account results that survive a re-render: the last test answer or error. */
const results = new Map();
let last = { connections: [], marginSecs: 600, due: {} };

/** `due`: when each account is next refreshed and why, `{account: {at, reason}}`. */
export function renderCards(connections, marginSecs, due = last.due) {
  last = { connections, marginSecs, due: due || {} };
  const known = new Set(connections.map((c) => c.account));
  for (const account of results.keys()) if (!known.has(account)) results.delete(account);
  const list = $('connections-list');
  const focused = document.activeElement?.closest('[data-account]');
  const refocus = focused && document.activeElement.dataset.testid;
  list.replaceChildren(...connections.map(card));
  if (refocus) {
    list.querySelector(`[data-account="${CSS.escape(focused.dataset.account)}"] [data-testid="${refocus}"]`)?.focus();
  }
  $('connections-view').hidden = connections.length === 0;
}

/** Re-renders the relative times ("in 23 hr") as the clock moves. */
export function tickCards() {
  for (const node of document.querySelectorAll('#connections-list time[data-relative]')) {
    node.querySelector('.rel').textContent = relative(node.dateTime);
  }
}

function card(c) {
  const id = `card-${c.account.replace(/[^a-z0-9]/gi, '-')}`;
  const title = c.name || c.account;
  const result = results.get(c.account);
  return el('article', { class: 'card', id, 'data-testid': 'connection-card', 'data-account': c.account,
    'data-state': c.state, 'aria-labelledby': `${id}-title` },
  el('header', { class: 'card-head' },
    el('div', {},
      el('h3', { id: `${id}-title`, class: 'card-title', 'data-testid': 'card-name' }, title),
      el('p', { class: 'card-host', 'data-testid': 'card-host' }, c.account)),
    el('span', { class: `badge ${c.state}`, 'data-testid': 'state-badge', 'data-state': c.state },
      t(`state.${c.state}`))),
  el('dl', { class: 'facts' },
    fact('ui.cards.kind', 'card-kind', t(`kind.${c.kind}`)),
    fact('ui.cards.token', 'card-token', el('code', {}, c.access_token_masked || '—')),
    fact('ui.cards.expires', 'card-expires', when(c.expires_at, t('ui.cards.no_expiry'))),
    fact('ui.cards.created', 'card-created', when(c.created_at)),
    fact('ui.cards.updated', 'card-updated', when(c.updated_at)),
    fact('ui.cards.last_refresh', 'card-last-refresh', when(c.last_refresh_at, t('ui.time.never'))),
    fact('ui.cards.storage', 'card-storage', t(c.storage)),
    fact('ui.cards.auto', 'card-auto', autoRefresh(c))),
  c.reconnect_reason || c.last_error
    ? el('p', { class: 'card-warning', 'data-testid': 'card-warning' },
      c.reconnect_reason
        ? t('ui.cards.reconnect_reason', { reason: c.reconnect_reason })
        : t('ui.cards.last_error', { error: c.last_error }))
    : null,
  el('div', { class: 'actions' },
    el('button', { type: 'button', class: 'btn', 'data-testid': 'refresh-button',
      disabled: c.kind === 'long_lived', title: c.kind === 'long_lived' ? t('ui.cards.no_refresh_long') : null,
      onclick: (e) => act(c.account, e.currentTarget, refresh) }, t('ui.cards.refresh')),
    el('button', { type: 'button', class: 'btn', 'data-testid': 'test-button',
      onclick: (e) => act(c.account, e.currentTarget, test) }, t('ui.cards.test')),
    el('button', { type: 'button', class: 'btn danger-outline', 'data-testid': 'disconnect-button',
      onclick: (e) => act(c.account, e.currentTarget, () => disconnect(c)) }, t('ui.cards.disconnect'))),
  el('div', { class: 'card-result', 'data-testid': 'card-result', 'aria-live': 'polite' },
    result ? renderResult(result) : null));
}

function fact(labelKey, testid, value) {
  return el('div', { class: 'fact' },
    el('dt', {}, t(labelKey)),
    el('dd', { 'data-testid': testid }, value));
}

function when(iso, empty = '—') {
  if (!iso) return empty;
  return el('time', { datetime: iso, 'data-relative': 'yes' },
    formatDateTime(iso), ' ', el('span', { class: 'rel muted' }, relative(iso)));
}

function autoRefresh(c) {
  if (c.state === 'reconnect_needed') return t('ui.cards.auto_reconnect');
  if (c.kind === 'long_lived') return t('ui.cards.no_refresh_long');
  const due = last.due[c.account];
  if (due) {
    return el('span', { 'data-testid': 'card-due', 'data-reason': due.reason },
      t(`due.${due.reason}`, { when: `${formatDateTime(due.at)} (${relative(due.at)})` }));
  }
  if (!c.expires_at) return t('ui.cards.auto_unknown');
  return t('ui.cards.auto_on', { mins: Math.round(last.marginSecs / 60) });
}

function renderResult(r) {
  if (r.error) return errorBox(r.error);
  if (r.info) {
    const i = r.info;
    const extra = [i.subdomain && t('ui.cards.subdomain', { v: i.subdomain }),
      i.country && t('ui.cards.country', { v: i.country }),
      i.currency && t('ui.cards.currency', { v: i.currency })].filter(Boolean).join(' · ');
    return el('div', { class: 'ok-box', 'data-testid': 'test-result' },
      el('p', {}, t('ui.cards.test_ok', { name: i.name, id: i.id })),
      extra ? el('p', { class: 'muted' }, extra) : null);
  }
  return el('p', { class: 'ok-line', 'data-testid': 'action-result' }, r.note);
}

async function act(account, button, action) {
  await busy(button, async () => {
    try {
      await action(account);
    } catch (err) {
      results.set(account, { error: err });
    }
    renderCards(last.connections, last.marginSecs);
    const sel = `[data-account="${CSS.escape(account)}"] [data-testid="card-result"]`;
    document.querySelector(sel)?.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  });
}

async function refresh(account) {
  const status = await call('refresh_connection', { account });
  results.set(account, { note: t('ui.cards.refreshed', { until: formatDateTime(status.expires_at) }) });
  last.connections = last.connections.map((c) => (c.account === account ? status : c));
}

async function test(account) {
  results.set(account, { info: await call('test_connection', { account }) });
}

async function disconnect(c) {
  const account = c.account;
  const label = c.name ? `${c.name} (${account})` : account;
  const ok = await confirmDialog({
    title: t('ui.confirm.title', { account: label }),
    body: t('ui.confirm.body'),
    confirm: t('ui.cards.disconnect'),
  });
  if (!ok) return;
  await call('disconnect', { account });
  results.delete(account);
  last.connections = last.connections.filter((c) => c.account !== account);
}
