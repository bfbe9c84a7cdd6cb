// Token status: a card per connected account, with Refresh, Test connection and Disconnect.
// Past a handful of accounts the cards give way to a list (accounts.js), with the card of
// the selected row under it.

import { call } from './tauri.js';
import { t } from './i18n.js';
import { $, announce, busy, copyText, el, errorBox, toast } from './dom.js';
import { confirmDialog } from './dialog.js';
import { badge } from './state.js';
import { CARDS_UP_TO, focusList, renderList } from './accounts.js';

/** Per-account results that survive a re-render: the last test answer or error. */
const results = new Map();
/** Accounts whose *Use from scripts* is open; it stays open across re-renders. */
const scriptsOpen = new Set();
let last = { connections: [] };

/** Draws the connections: cards, or past CARDS_UP_TO the list; `focus` is shown first. */
export function renderCards(connections, focus = null) {
  last = { connections };
  const known = new Set(connections.map((c) => c.account));
  for (const account of results.keys()) if (!known.has(account)) results.delete(account);
  for (const account of scriptsOpen) if (!known.has(account)) scriptsOpen.delete(account);
  const view = $('connections-view');
  const focused = document.activeElement?.closest('[data-testid="connection-card"]');
  const refocus = focused && document.activeElement.dataset.testid;
  const many = connections.length > CARDS_UP_TO;
  const list = $('connections-list');
  list.hidden = many;
  $('accounts').hidden = !many;
  if (many) {
    list.replaceChildren();
    renderList(connections, { card, focus });
  } else {
    $('account-detail').replaceChildren();
    list.replaceChildren(...connections.map(card));
  }
  if (refocus) {
    view.querySelector(`[data-testid="connection-card"][data-account="${CSS.escape(focused.dataset.account)}"]`
      + ` [data-testid="${refocus}"]`)?.focus();
  }
  view.hidden = connections.length === 0;
}

/** Re-renders the relative times ("через 23 часа") as the clock moves; the engine words them. */
export async function tickCards() {
  const nodes = [...document.querySelectorAll('#connections-view time[data-relative]')];
  if (!nodes.length) return;
  try {
    const words = await call('relative_times', { times: nodes.map((n) => n.dateTime) });
    nodes.forEach((n, i) => { n.querySelector('.rel').textContent = words[i]; });
  } catch {
    // The absolute time beside it still holds; the next tick tries again.
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
      el('h3', { id: `${id}-title`, class: 'card-title', 'data-testid': 'card-name', translate: 'no' }, title),
      el('p', { class: 'card-host', 'data-testid': 'card-host', translate: 'no' }, c.account),
      c.moved_from ? el('p', { class: 'card-moved', 'data-testid': 'card-moved' },
        t('ui.cards.moved_from', { old: c.moved_from })) : null),
    badge(c.state)),
  el('dl', { class: 'facts' },
    fact('ui.cards.kind', 'card-kind', t(`kind.${c.kind}`)),
    fact('ui.cards.token', 'card-token', el('span', { translate: 'no' }, c.access_token_masked || '—')),
    fact('ui.cards.expires', 'card-expires', when(c.times.expires_at, t('ui.cards.no_expiry'))),
    fact('ui.cards.created', 'card-created', when(c.times.created_at)),
    fact('ui.cards.updated', 'card-updated', when(c.times.updated_at)),
    fact('ui.cards.last_refresh', 'card-last-refresh', when(c.times.last_refresh_at, t('ui.time.never'))),
    fact('ui.cards.storage', 'card-storage', t(c.storage)),
    fact('ui.cards.integration', 'card-integration', el('span', { translate: 'no' }, c.client_id || '—')),
    fact('ui.cards.auto', 'card-auto', autoRefresh(c))),
  scripts(c),
  c.reconnect_reason || c.last_error
    ? el('p', { class: 'card-warning', 'data-testid': 'card-warning' },
      c.reconnect_reason
        ? quoting('ui.cards.reconnect_reason', 'reason', c.reconnect_reason)
        : quoting('ui.cards.last_error', 'error', c.last_error))
    : null,
  el('div', { class: 'actions' },
    el('button', { type: 'button', class: 'btn', 'data-testid': 'refresh-button',
      disabled: c.kind === 'long_lived', title: c.kind === 'long_lived' ? t('ui.cards.no_refresh_long') : null,
      onclick: (e) => act(c.account, e.currentTarget, refresh) }, t('ui.cards.refresh')),
    el('button', { type: 'button', class: 'btn', 'data-testid': 'test-button',
      onclick: (e) => act(c.account, e.currentTarget, test) }, t('ui.cards.test')),
    el('button', { type: 'button', class: 'btn danger-outline', 'data-testid': 'disconnect-button',
      onclick: (e) => disconnect(c, e.currentTarget) }, t('ui.cards.disconnect'))),
  el('div', { class: 'card-result', 'data-testid': 'card-result', 'aria-live': 'polite' },
    result ? renderResult(result) : null));
}

/**
 * How to use the connection from scripts: the commands (never the token), each with Copy.
 * Folded until opened: the commands are the dashboard's only monospace text, so the first
 * frame looks up one font fewer (each font instance costs WebKitGTK a fontconfig match).
 */
function scripts(c) {
  const commands = [
    ['token', `amo token --account ${c.account}`],
    ['run', `amo run --account ${c.account} -- ./your-script`],
  ];
  return el('details', { class: 'card-scripts disclosure', 'data-testid': 'card-scripts',
    open: scriptsOpen.has(c.account),
    ontoggle: (e) => {
      if (e.currentTarget.open) scriptsOpen.add(c.account);
      else scriptsOpen.delete(c.account);
    } },
    el('summary', { 'data-testid': 'card-scripts-toggle' }, t('ui.cards.scripts')),
    el('p', { class: 'hint' }, t('ui.cards.scripts_hint')),
    ...commands.map(([name, command]) => el('div', { class: 'copy-row' },
      el('code', { 'data-testid': `card-${name}-command` }, command),
      el('button', { type: 'button', class: 'btn small', 'data-testid': `copy-${name}-command`,
        'aria-label': t(`ui.cards.copy_${name}_command`),
        onclick: async () => toast((await copyText(command)) ? t('ui.copied') : t('ui.copy_failed')) },
      t('ui.action.copy')))));
}

function fact(labelKey, testid, value) {
  return el('div', { class: 'fact' },
    el('dt', {}, t(labelKey)),
    el('dd', { 'data-testid': testid }, value));
}

/** A time the engine has worded: the date, then how far off it is. */
function when(w, empty = '—') {
  if (!w) return empty;
  return el('time', { datetime: w.iso, 'data-relative': 'yes' },
    w.text, ' ', el('span', { class: 'muted' }, '(', el('span', { class: 'rel' }, w.rel), ')'));
}

/** How automatic refresh goes, in the engine's words: the next refresh and why, when due. */
function autoRefresh(c) {
  if (!c.due) return c.auto_refresh;
  return el('span', { 'data-testid': 'card-due', 'data-reason': c.due.reason }, c.due.text);
}

/** The message `key` with `{name}` as a quoted value: amoCRM's or the log's own words. */
function quoting(key, name, value) {
  const [before, after = ''] = t(key).split(`{${name}}`);
  return [before, el('span', { translate: 'no' }, value), after];
}

function renderResult(r) {
  if (r.error) return errorBox(r.error);
  if (r.info) {
    const i = r.info;
    const extra = [['ui.cards.subdomain', i.subdomain], ['ui.cards.country', i.country],
      ['ui.cards.currency', i.currency]].filter(([, v]) => v);
    return el('div', { class: 'ok-box', 'data-testid': 'test-result' },
      el('p', {}, quoting('ui.cards.test_ok', 'name', i.name).map((x) => (typeof x === 'string' ? x.replace('{id}', i.id) : x))),
      extra.length ? el('p', { class: 'muted' },
        extra.flatMap(([key, v], n) => [n ? ' · ' : '', ...quoting(key, 'v', v)])) : null);
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
    renderCards(last.connections);
    const sel = `[data-account="${CSS.escape(account)}"] [data-testid="card-result"]`;
    document.querySelector(sel)?.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  });
}

async function refresh(account) {
  const status = await call('refresh_connection', { account });
  const note = t('ui.cards.refreshed', { until: status.times.expires_at?.text ?? t('ui.cards.no_expiry') });
  results.set(account, { note });
  announce(note);
  last.connections = last.connections.map((c) => (c.account === account ? status : c));
}

async function test(account) {
  results.set(account, { info: await call('test_connection', { account }) });
}

/** Asks first (focus comes back to `button` on Cancel or Escape), then disconnects. */
async function disconnect(c, button) {
  const account = c.account;
  const label = c.name ? `${c.name} (${account})` : account;
  const ok = await confirmDialog({
    title: quoting('ui.confirm.title', 'account', label),
    body: t('ui.confirm.body'),
    confirm: t('ui.cards.disconnect'),
  });
  if (ok) await act(account, button, () => remove(account));
}

async function remove(account) {
  await call('disconnect', { account });
  results.delete(account);
  last.connections = last.connections.filter((c) => c.account !== account);
  // The card and its button are gone: focus goes to what the window shows now (with many
  // accounts, the list, on the row after the one that went).
  if (last.connections.length > CARDS_UP_TO) focusList();
  else $(last.connections.length ? 'connections-title' : 'connect-title').focus();
}
