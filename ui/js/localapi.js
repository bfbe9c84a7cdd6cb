// The local API: the always-on proxy other programs call (its switch, port and account), what
// the background host does with it, and the last calls. The key never comes to the page: it
// shows masked, Copy key puts it on the clipboard from the app, Rotate key replaces it.
//
// The host that serves it is often another process (the tray), which tells the window
// nothing: while the section is on screen and the proxy is on, the page asks again every few
// seconds (sooner while it waits for the host). Off, hidden or scrolled away: no timer.

import { call } from './tauri.js';
import { t } from './i18n.js';
import { $, busy, copyText, el, errorBox, fieldError, toast } from './dom.js';
import { confirmDialog } from './dialog.js';

/** How often the section is read again while it is on screen and on, in ms. */
const POLL = 3000;
/** The same while it waits for the host to serve what was just set. */
const POLL_WAITING = 700;

let view = null;
let inView = false;
/** The switch's change is being saved: a read meanwhile does not flip it back. */
let switching = false;
let timer = 0;
/** The port last drawn: the field keeps what the user is typing until it is saved. */
let portDrawn = '';

export function initLocalApi() {
  $('local-api-on').addEventListener('change', (e) => toggle(e.currentTarget));
  $('local-api-form').addEventListener('submit', (e) => {
    e.preventDefault();
    savePort();
  });
  $('local-api-account').addEventListener('change', (e) => saveAccount(e.currentTarget));
  $('local-api-copy-url').addEventListener('click', async () => {
    if (view) toast((await copyText(view.url)) ? t('ui.copied') : t('ui.copy_failed'));
  });
  $('local-api-copy-key').addEventListener('click', (e) => copyKey(e.currentTarget));
  $('local-api-rotate-key').addEventListener('click', (e) => rotateKey(e.currentTarget));
  // Read when it comes on screen; no reads while it is off screen or the window is hidden.
  // Watched from the frame after the first one, so the window's first frame waits on no read.
  const watch = new IntersectionObserver((entries) => {
    const was = inView;
    inView = entries.some((x) => x.isIntersecting);
    if (inView && !was) load();
    else schedule();
  });
  requestAnimationFrame(() => requestAnimationFrame(() => watch.observe($('local-api-view'))));
  document.addEventListener('visibilitychange', () => (document.hidden ? schedule() : inView && load()));
}

/** Shows the section under the dashboard (not during setup); reads it again when on screen. */
export function renderLocalApi(o, setup) {
  const section = $('local-api-view');
  section.hidden = setup || !o.settings;
  if (section.hidden) schedule();
  else if (inView) load();
}

async function load() {
  try {
    draw(await call('get_local_api'));
    $('local-api-error').replaceChildren();
  } catch (err) {
    $('local-api-error').replaceChildren(errorBox(err));
    schedule();
  }
}

function schedule() {
  clearTimeout(timer);
  timer = 0;
  if (!view?.on || !inView || document.hidden || $('local-api-view').hidden) return;
  timer = setTimeout(load, view.state.state === 'waiting' ? POLL_WAITING : POLL);
}

function draw(v) {
  view = v;
  if (!switching) $('local-api-on').checked = v.on;
  const port = $('local-api-port');
  // What the user is typing stays until it is saved.
  if (document.activeElement !== port || port.value === portDrawn) port.value = String(v.port);
  portDrawn = String(v.port);
  $('local-api-port-hint').textContent = t('ui.local_api.port_hint', { default: v.default_port });
  drawAccounts(v);
  $('local-api-details').hidden = !v.on;
  const section = $('local-api-view');
  section.dataset.on = String(v.on);
  section.dataset.state = v.state.state;
  const state = $('local-api-state');
  state.dataset.state = v.state.state;
  replaceIfChanged(state, stateWords(v.state));
  $('local-api-url').textContent = v.url;
  drawCalls(v.calls);
  schedule();
}

/** A choice past one connection; with one, which it is; with none, what to do first. */
function drawAccounts(v) {
  const many = v.accounts.length > 1;
  $('local-api-account-field').hidden = !many;
  const only = $('local-api-only');
  only.hidden = many;
  if (many) {
    const select = $('local-api-account');
    const values = [...(v.account ? [] : ['']), ...v.accounts];
    const now = [...select.options].map((o) => o.value);
    if (values.join('\n') !== now.join('\n')) {
      select.replaceChildren(...values.map((a) => (a
        ? el('option', { value: a, translate: 'no' }, a)
        : el('option', { value: '' }, t('ui.local_api.choose')))));
    }
    if (document.activeElement !== select) select.value = v.account || '';
  } else if (v.accounts.length === 1) {
    replaceIfChanged(only, quoting('ui.local_api.only', 'account', v.accounts[0]));
  } else {
    replaceIfChanged(only, [t('ui.local_api.none')]);
  }
}

function stateWords(s) {
  switch (s.state) {
    case 'serving':
      return quoting('ui.local_api.serving', 'account', s.account).map((x) => (
        typeof x === 'string' ? x.replace('{since}', s.since) : x));
    case 'failed':
      return [t('ui.local_api.failed', { reason: s.reason })];
    case 'waiting':
      return [el('span', { class: 'spinner', 'aria-hidden': 'true' }), t('ui.local_api.waiting')];
    default:
      return [];
  }
}

/** The message `key` with `{name}` as a value quoted as it is (an account's host). */
function quoting(key, name, value) {
  const [before, after = ''] = t(key).split(`{${name}}`);
  return [before, el('span', { translate: 'no' }, value), after];
}

/** Puts `parts` into `node` only when its words change: a live region speaks of a change. */
function replaceIfChanged(node, parts) {
  const words = parts.map((p) => (typeof p === 'string' ? p : p.textContent)).join('');
  if (node.textContent !== words || !node.childNodes.length) node.replaceChildren(...parts);
}

function drawCalls(calls) {
  $('local-api-no-calls').hidden = calls.length > 0;
  $('local-api-calls').hidden = calls.length === 0;
  const key = JSON.stringify(calls);
  const body = $('local-api-calls-body');
  if (body.dataset.drawn === key) return;
  body.dataset.drawn = key;
  body.replaceChildren(...calls.map((c) => el('tr', { 'data-testid': 'local-api-call',
    'data-method': c.method, 'data-path': c.path, 'data-status': c.status,
    class: c.status >= 400 ? 'bad' : null },
  el('td', {}, el('time', { datetime: c.at }, c.clock)),
  el('td', { translate: 'no' }, c.method),
  el('td', { class: 'path', translate: 'no' }, c.path),
  el('td', { class: 'num' }, String(c.status)))));
}

/** Saves what `args` sets; a refusal goes to the section's error slot (or the port field). */
async function save(args) {
  $('local-api-error').replaceChildren();
  try {
    draw(await call('save_local_api', args));
    return true;
  } catch (err) {
    if (err?.field === 'proxy_port') fieldError('local-api-port', err.message);
    else $('local-api-error').replaceChildren(errorBox(err));
    return false;
  }
}

/** Saves the switch. It stays enabled (and focused) meanwhile; a change made before the
 * answer comes is saved after it; a refusal puts it back as it was. */
async function toggle(input) {
  if (switching) return;
  switching = true;
  input.setAttribute('aria-busy', 'true');
  try {
    let saved = view?.on;
    while (input.checked !== saved) {
      const wanted = input.checked;
      if (!(await save({ on: wanted }))) break;
      saved = wanted;
    }
  } finally {
    switching = false;
    input.removeAttribute('aria-busy');
    if (view) input.checked = view.on;
  }
}

async function savePort() {
  const value = $('local-api-port').value.trim();
  const n = Number(value);
  const fits = /^\d{1,5}$/.test(value) && n >= 1 && n <= 65535;
  if (!fieldError('local-api-port', fits ? '' : t('ui.local_api.port_invalid'))) return;
  await busy($('local-api-port-save'), async () => {
    if (await save({ port: value })) toast(t('always.saved'));
  });
}

async function saveAccount(select) {
  if (!select.value) return;
  select.disabled = true;
  try {
    if (await save({ account: select.value })) toast(t('always.saved'));
  } finally {
    select.disabled = false;
  }
}

/** Runs `task` with `button` busy, and gives it the focus back if the focus fell to the page
 * while it was disabled. */
async function busyKeepingFocus(button, task) {
  await busy(button, task);
  if (document.activeElement === document.body || !document.activeElement) button.focus();
}

async function copyKey(button) {
  await busyKeepingFocus(button, async () => {
    try {
      await call('copy_proxy_key');
      toast(t('ui.local_api.key_copied'));
    } catch (err) {
      $('local-api-error').replaceChildren(errorBox(err));
    }
  });
}

/** Asks first (Cancel and Escape give the focus back to the button), then replaces the key. */
async function rotateKey(button) {
  const ok = await confirmDialog({
    title: t('ui.local_api.rotate_title'),
    body: t('ui.local_api.rotate_body'),
    confirm: t('ui.local_api.rotate_key'),
  });
  if (!ok) return;
  await busyKeepingFocus(button, async () => {
    $('local-api-error').replaceChildren();
    try {
      draw(await call('rotate_proxy_key'));
      toast(t('ui.local_api.rotated'));
    } catch (err) {
      $('local-api-error').replaceChildren(errorBox(err));
    }
  });
}
