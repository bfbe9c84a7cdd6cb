// Connecting: the one Connect button, the wait for the browser (countdown, Open again,
// Copy link, Cancel, paste the address) and the other ways in (a code, a long-lived token).

import { call } from './tauri.js';
import { countdown, t } from './i18n.js';
import { $, announce, busy, copyText, fieldError, showError, toast } from './dom.js';

let flow = null;
let ticker = null;
let connected = () => {};
let state = { platform: 'amocrm', hasConnections: false };

/** Wires the panel; `onConnected(status)` runs when a way in connected an account. */
export function initConnect({ onConnected }) {
  connected = onConnected;
  $('connect-button').addEventListener('click', () => busy($('connect-button'), start));
  $('open-again-button').addEventListener('click', openAgain);
  $('copy-link-button').addEventListener('click', async () => {
    if (!flow) return;
    toast((await copyText(flow.authorize_url)) ? t('ui.copied') : t('ui.copy_failed'));
  });
  $('cancel-connect-button').addEventListener('click', cancel);
  $('paste-form').addEventListener('submit', (e) => {
    e.preventDefault();
    busy($('paste-submit'), paste);
  });
  $('paste-url').addEventListener('input', () => fieldError('paste-url', ''));
  wireOtherWay('code-form', 'code-submit', 'code-account', 'code-input', 'code-error',
    (account, code) => call('connect_with_code', { code, account }));
  wireOtherWay('token-form', 'token-submit', 'token-account', 'token-input', 'token-error',
    (account, token) => call('connect_long_lived', { token, account }));
}

/** Shows the idle panel or the waiting one, as the overview says. */
export function renderConnect({ settings, connections, flow: waiting }) {
  state = { platform: settings?.platform || 'amocrm', hasConnections: connections.length > 0 };
  const more = state.hasConnections;
  $('connect-title').textContent = t(more ? 'ui.connect.title_more' : 'ui.connect.title');
  $('connect-lead').textContent = t(more ? 'ui.connect.lead_more' : 'ui.connect.lead');
  const button = more ? 'ui.connect.another' : `ui.connect.button_${state.platform}`;
  $('connect-button').textContent = t(button);
  $('connect-view').classList.toggle('compact', more);
  if (waiting) showWaiting(waiting);
  else if (flow) showIdle();
}

export function isWaiting() {
  return flow !== null;
}

async function start() {
  showError('connect-error', null);
  try {
    showWaiting(await call('start_connect'));
  } catch (err) {
    showError('connect-error', err);
  }
}

function showWaiting(view) {
  const first = !flow || flow.id !== view.id;
  flow = view;
  $('connect-idle').hidden = true;
  $('connect-waiting').hidden = false;
  $('connect-view').classList.add('waiting');
  setButtons(true);
  $('waiting-status').textContent = t('ui.wait.status_waiting');
  $('browser-error').hidden = !view.browser_error;
  $('browser-error').textContent = view.browser_error
    ? t('ui.wait.browser_failed', { reason: view.browser_error })
    : '';
  if (first) {
    showError('waiting-error', null);
    $('paste-url').value = '';
    fieldError('paste-url', '');
    $('waiting-title').focus();
    announce(t('ui.announce.waiting'));
  }
  clearInterval(ticker);
  tick();
  ticker = setInterval(tick, 1000);
}

function showIdle() {
  flow = null;
  clearInterval(ticker);
  ticker = null;
  $('connect-waiting').hidden = true;
  $('connect-idle').hidden = false;
  $('connect-view').classList.remove('waiting');
}

function tick() {
  if (!flow) return;
  const { text, left } = countdown(flow.expires_at);
  $('flow-countdown').textContent = left > 0
    ? t('ui.wait.expires_in', { time: text })
    : t('ui.wait.expired');
}

function setButtons(enabled) {
  for (const id of ['open-again-button', 'copy-link-button', 'cancel-connect-button', 'paste-submit']) {
    $(id).disabled = !enabled;
  }
}

async function openAgain() {
  try {
    const failure = await call('open_authorize_url');
    $('browser-error').hidden = !failure;
    $('browser-error').textContent = failure ? t('ui.wait.browser_failed', { reason: failure }) : '';
    if (!failure) toast(t('ui.wait.opened'));
  } catch (err) {
    showError('waiting-error', err);
  }
}

async function cancel() {
  setButtons(false);
  $('waiting-status').textContent = t('ui.wait.status_cancelling');
  try {
    if (!(await call('cancel_connect'))) showIdle();
  } catch (err) {
    setButtons(true);
    showError('waiting-error', err);
  }
}

async function paste() {
  const url = $('paste-url').value.trim();
  if (!url) return fieldError('paste-url', t('ui.validate.required'));
  try {
    new URL(url);
  } catch {
    return fieldError('paste-url', t('ui.validate.not_url'));
  }
  showError('waiting-error', null);
  try {
    const status = await call('complete_connect_paste', { url });
    showIdle();
    connected(status);
  } catch (err) {
    $('waiting-status').textContent = t('ui.wait.status_waiting');
    showError('waiting-error', err);
  }
}

/** The browser came back: amoCRM answered, the code is being exchanged. */
export function onCallbackReceived() {
  if (flow) $('waiting-status').textContent = t('ui.wait.status_finishing');
}

/** A request reached the listener and was refused; the flow still waits. */
export function onRefusedWhileWaiting(error) {
  if (!flow) return;
  $('waiting-status').textContent = t('ui.wait.status_waiting');
  showError('waiting-error', error);
}

/** The flow ended: connected, refused, timed out or cancelled. */
export function onFlowEnded(ended) {
  if (flow && ended.id !== flow.id) return;
  const wasWaiting = flow !== null;
  showIdle();
  if (ended.ok) return;
  const cancelled = !ended.error || ended.error.kind === 'cancelled';
  showError('connect-error', cancelled ? null : ended.error);
  if (cancelled && wasWaiting) announce(t('ui.announce.cancelled'));
  // Back to the idle panel: focus on its title, or on the error that says why.
  if (wasWaiting) (cancelled ? $('connect-title') : $('connect-button')).focus();
}

function wireOtherWay(formId, submitId, accountId, secretId, errorId, send) {
  for (const id of [accountId, secretId]) $(id).addEventListener('input', () => fieldError(id, ''));
  $(formId).addEventListener('submit', (e) => {
    e.preventDefault();
    const account = $(accountId).value.trim();
    const secret = $(secretId).value.trim();
    const okAccount = fieldError(accountId, accountProblem(account));
    const okSecret = fieldError(secretId, secret ? '' : t('ui.validate.required'));
    if (!okAccount || !okSecret) return;
    showError(errorId, null);
    busy($(submitId), async () => {
      try {
        const status = await send(account, secret);
        $(secretId).value = '';
        $(accountId).value = '';
        $('other-ways').open = false;
        connected(status);
      } catch (err) {
        if (err?.field === 'account') fieldError(accountId, err.message);
        showError(errorId, err);
      }
    });
  });
}

function accountProblem(value) {
  if (!value) return t('ui.validate.required');
  const host = value.replace(/^https?:\/\//i, '').replace(/\/+$/, '');
  return /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$/i.test(host) ? '' : t('ui.validate.not_host');
}
