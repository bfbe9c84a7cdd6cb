// The window: draws the dashboard from the data it was built with, then follows the
// engine's events. Data flows one way: page → command → engine → event → page. Nothing polls
// but the local API's section (localapi.js): its host is often the tray, which tells the
// window nothing, so it reads again every few seconds while it is on screen and on.

import { call, follow, on, EVENTS } from './tauri.js';
import { applyI18n, setCatalogue, t } from './i18n.js';
import { $, announce, el, errorBox, toast } from './dom.js';
import { initSetup, renderSetup } from './setup.js';
import {
  initConnect, isWaiting, onCallbackReceived, onFlowEnded, onRefusedWhileWaiting, renderConnect,
} from './connect.js';
import { renderCards, tickCards } from './cards.js';
import { showAccount } from './accounts.js';
import { initAlways, renderAlways } from './always.js';
import { initLocalApi, renderLocalApi } from './localapi.js';
import { addEntry, loadActivity, render as renderActivity, show as showActivity } from './activity.js';

let overview = null;
let editingSettings = false;
let loading = null;
let again = false;

/** The page's first data, given with it (`src-tauri/src/boot.rs`): words, dashboard, activity. */
const BOOT = window.__AMO_BOOT__;

async function loadMessages() {
  useCatalogue(await call('get_messages'));
}

function useCatalogue(catalogue) {
  setCatalogue(catalogue);
  applyI18n();
  const select = $('lang-select');
  select.replaceChildren(
    el('option', { value: 'system' }, t('ui.lang.system')),
    ...catalogue.languages.map((l) => el('option', { value: l.code }, l.name)),
  );
}

/** Reloads the dashboard; calls that arrive meanwhile coalesce into one more load. */
async function reload() {
  if (loading) {
    again = true;
    return loading;
  }
  loading = (async () => {
    do {
      again = false;
      try {
        overview = await call('get_overview');
      } catch (err) {
        overview = failedOverview(err);
      }
      render();
    } while (again);
    loading = null;
  })();
  return loading;
}

function render() {
  const o = overview;
  emulatorBanner(o.emulator);
  banner('keychain-banner', o.keychain);
  banner('problem-banner', o.problem);
  $('lang-select').value = o.settings?.lang || 'system';
  applyTheme(o.settings?.theme);
  $('log-path').textContent = o.log_path ? t('ui.activity.log_path', { path: o.log_path }) : '';
  const configured = Boolean(o.settings?.configured);
  const setup = !o.flow && (editingSettings || !configured);
  const setupView = $('setup-view');
  const wasSetup = !setupView.hidden;
  setupView.hidden = !setup;
  $('settings-button').setAttribute('aria-pressed', String(setup));
  $('settings-button').disabled = Boolean(o.flow) || !o.settings;
  if (setup) {
    if (!wasSetup) renderSetup(o.settings);
    $('connect-view').hidden = true;
    $('connections-view').hidden = true;
  } else {
    $('connect-view').hidden = false;
    renderConnect(o);
    renderCards(o.connections, o.focus);
  }
  renderAlways(o, setup);
  renderLocalApi(o, setup);
  $('skeleton').hidden = true;
  $('main').removeAttribute('aria-busy');
  document.body.classList.remove('loading');
}

function banner(id, error) {
  const node = $(id);
  node.hidden = !error;
  node.replaceChildren(...(error ? [errorBox(error)] : []));
}

/** Stays for as long as AMO_BASE_URL sends every call to a local emulator. */
function emulatorBanner(url) {
  const node = $('emulator-banner');
  node.hidden = !url;
  node.replaceChildren(...(url ? [el('p', { class: 'note warn' }, t('ui.emulator.banner', { url }))] : []));
}

/** Forces the light or dark theme, or follows the desktop's (no attribute). */
function applyTheme(theme) {
  const root = document.documentElement;
  if (theme === 'light' || theme === 'dark') root.dataset.theme = theme;
  else delete root.dataset.theme;
  $('theme-select').value = theme || 'system';
}

async function changeTheme(theme) {
  applyTheme(theme);
  try {
    await call('save_settings', { settings: { theme } });
  } catch (err) {
    toast(err?.message || String(err));
  }
}

async function changeLanguage(code) {
  try {
    await call('save_settings', { settings: { lang: code } });
    await loadMessages();
    renderActivity();
    if (!$('setup-view').hidden) renderSetup(overview?.settings);
    await reload();
  } catch (err) {
    toast(err?.message || String(err));
  }
}

/** Wires the controls and the handlers of the engine's events (followed from `follow`). */
function wire() {
  initSetup({
    saved: () => {
      editingSettings = false;
      $('setup-view').hidden = true;
      reload().then(() => $('connect-title').focus());
    },
    back: () => {
      editingSettings = false;
      $('setup-view').hidden = true;
      render();
      $('settings-button').focus();
    },
  });
  initConnect({ onConnected: () => reload() });
  // Before initAlways: with many accounts the account to show is selected in the list
  // first, then shown.
  on('app:focus', (p) => showAccount(p.account));
  initAlways();
  initLocalApi();
  $('settings-button').addEventListener('click', () => {
    editingSettings = $('setup-view').hidden;
    $('setup-view').hidden = true;
    render();
    if (editingSettings) $('setup-title').focus();
  });
  $('lang-select').addEventListener('change', (e) => changeLanguage(e.target.value));
  $('theme-select').addEventListener('change', (e) => changeTheme(e.target.value));

  on(EVENTS.activity, (p) => addEntry(p.entry));
  on(EVENTS.callbackReceived, () => onCallbackReceived());
  on(EVENTS.connected, (p) => {
    toast(t('ui.toast.connected', { account: p.account }));
    // Focus moves to the cards, where the new one now is (with many, it is the selected row).
    reload().then(() => {
      showAccount(p.account);
      $('connections-title').focus();
    });
  });
  on(EVENTS.refreshed, (p) => {
    announce(t('ui.announce.refreshed', { account: p.account }));
    reload();
  });
  on(EVENTS.disconnected, (p) => {
    toast(t('ui.toast.disconnected', { account: p.account }));
    reload();
  });
  on(EVENTS.failed, (p) => {
    if (p.account) reload();
    else if (isWaiting()) onRefusedWhileWaiting(p.error);
  });
  on(EVENTS.flowEnded, (p) => {
    onFlowEnded(p);
    reload();
  });
  on(EVENTS.lagged, () => {
    reload();
    loadActivity();
  });
}

const failedOverview = (err) => ({
  settings: null,
  connections: [],
  problem: err,
  keychain: null,
  flow: null,
  emulator: null,
});

async function boot() {
  // With its first data the page has the desktop's fonts, the language and a forced theme on
  // its root already (boot.rs).
  if (BOOT) {
    useCatalogue(BOOT.messages);
    overview = BOOT.overview ?? failedOverview(BOOT.error);
  } else {
    // Built without its data: ask for it.
    const first = call('get_overview').catch(failedOverview);
    try {
      await loadMessages();
    } catch (err) {
      $('problem-banner').hidden = false;
      $('problem-banner').replaceChildren(errorBox(err));
    }
    loadActivity();
    overview = await first;
  }
  wire();
  if (!loading) render();
  // The clock moves "in 23 hr" along; no data is fetched.
  setInterval(tickCards, 30_000);
  // The frame after the dashboard is drawn with its data: the window is ready for a person.
  // The engine's events are followed from just after the first frame is painted, in the time
  // before the next one (registering the listener is an IPC call, which would hold up the
  // first frame); then the engine says whether it reported anything since the data was
  // read, and if it did, the page reads again. The activity beside the dashboard follows in
  // the next frame (it came by itself before, too).
  requestAnimationFrame(() => {
    setTimeout(() => follow().catch(() => {}));
    requestAnimationFrame(async () => {
      // The same moment for a look from inside the page (the performance timeline).
      performance.mark('dashboard-drawn');
      await call('ready').catch(() => {});
      if (BOOT) showActivity(BOOT.activity);
      await follow().catch(() => {});
      if (!(await call('still_current').catch(() => false))) {
        reload();
        loadActivity();
      }
    });
  });
}

boot();
