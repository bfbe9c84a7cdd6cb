// The setup form: which integration new connections use (pick one added before, or add
// another), its client ID, client secret (kept in the keychain, never shown back),
// redirect URI and platform, with inline validation.

import { call } from './tauri.js';
import { t } from './i18n.js';
import { $, busy, copyText, fieldError, showError, toast } from './dom.js';

const ENV = {
  client_id: 'AMO_CLIENT_ID',
  client_secret: 'AMO_CLIENT_SECRET',
  redirect_uri: 'AMO_REDIRECT_URI',
  platform: 'AMO_PLATFORM',
};
const INPUT = { client_id: 'client-id', client_secret: 'client-secret', redirect_uri: 'redirect-uri' };

let current = null;
/** Whether the integration the form shows has its secret stored (a new one has none). */
let secretStored = false;

/** Wires the form; `saved(settingsView)` runs after a successful save, `back()` on Back. */
export function initSetup({ saved, back }) {
  const form = $('setup-form');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!validateAll()) {
      form.querySelector('[aria-invalid="true"]')?.focus();
      return;
    }
    showError('setup-error', null);
    await busy($('setup-save'), async () => {
      try {
        const view = await call('save_settings', { settings: payload() });
        $('client-secret').value = '';
        toast(t('ui.setup.saved'));
        saved(view);
      } catch (err) {
        if (err?.field && INPUT[err.field]) {
          fieldError(INPUT[err.field], err.message);
          $(INPUT[err.field]).focus();
        }
        showError('setup-error', err);
      }
    });
  });
  for (const [field, id] of Object.entries(INPUT)) {
    $(id).addEventListener('blur', () => validate(field));
    $(id).addEventListener('input', () => fieldError(id, ''));
  }
  $('copy-redirect').addEventListener('click', async () => {
    const ok = await copyText($('redirect-uri').value.trim());
    toast(ok ? t('ui.copied') : t('ui.copy_failed'));
  });
  $('setup-cancel').addEventListener('click', () => back());
  $('integration-select').addEventListener('change', () => showIntegration($('integration-select').value));
  // A client ID typed by hand names an integration added before, or a new one to add.
  $('client-id').addEventListener('input', () => {
    const typed = $('client-id').value.trim();
    const known = (current?.integrations || []).find((i) => i.client_id === typed);
    secretStored = known ? known.secret_stored : false;
    $('integration-select').value = known ? known.client_id : '';
  });
}

/** Fills the integration picker: every integration added, then "add another". */
function renderIntegrations(s) {
  const list = s.integrations || [];
  const select = $('integration-select');
  select.replaceChildren();
  for (const i of list) {
    const platform = t(`ui.platform.${i.platform}`);
    const text = t('ui.setup.integration_option', { id: i.client_id, platform, n: String(i.connections) });
    select.append(new Option(text, i.client_id, false, i.current));
  }
  select.append(new Option(t('ui.setup.integration_new'), ''));
  if (!list.some((i) => i.current)) select.value = list.length ? list[0].client_id : '';
  // Only worth showing once there is one to choose or keep.
  $('integration-field').hidden = list.length === 0;
  select.disabled = new Set(s.overridden || []).has(ENV.client_id);
}

/** Shows the chosen integration's fields, or empty ones for a new integration. */
function showIntegration(clientId) {
  const s = current || {};
  const chosen = (s.integrations || []).find((i) => i.client_id === clientId);
  const secretFromEnv = new Set(s.overridden || []).has(ENV.client_secret);
  if (!$('client-id').disabled) $('client-id').value = chosen ? chosen.client_id : '';
  $('client-secret').value = '';
  if (chosen && !$('redirect-uri').disabled) $('redirect-uri').value = chosen.redirect_uri;
  if (chosen && !$('platform-kommo').disabled) {
    $(chosen.platform === 'kommo' ? 'platform-kommo' : 'platform-amocrm').checked = true;
  }
  secretStored = chosen ? chosen.secret_stored : false;
  $('client-secret').placeholder = secretStored && !secretFromEnv ? t('ui.setup.secret_placeholder') : '';
  if (!secretFromEnv) {
    $('client-secret-hint').textContent = t(secretStored ? 'ui.setup.secret_saved' : 'ui.setup.secret_hint');
  }
  for (const id of Object.values(INPUT)) fieldError(id, '');
}

/** Fills the form from the saved settings (the secret only as "set" or "not set"). */
export function renderSetup(settings) {
  current = settings;
  const s = settings || {};
  const overridden = new Set(s.overridden || []);
  $('client-id').value = s.client_id || '';
  $('client-secret').value = '';
  $('redirect-uri').value = s.redirect_uri || '';
  const platform = s.platform === 'kommo' ? 'platform-kommo' : 'platform-amocrm';
  $(platform).checked = true;
  const secretFromEnv = overridden.has(ENV.client_secret);
  $('client-secret').placeholder = s.client_secret_set && !secretFromEnv ? t('ui.setup.secret_placeholder') : '';
  const hints = {
    client_id: t('ui.setup.client_id_hint'),
    client_secret: t(s.client_secret_set ? 'ui.setup.secret_saved' : 'ui.setup.secret_hint'),
    redirect_uri: t('ui.setup.redirect_hint'),
  };
  for (const [field, id] of Object.entries(INPUT)) {
    const fromEnv = overridden.has(ENV[field]);
    $(id).disabled = fromEnv;
    fieldError(id, '');
    const envNote = t('ui.setup.from_env', { var: ENV[field] });
    const keepHint = field === 'redirect_uri';
    $(`${id}-hint`).textContent = fromEnv ? (keepHint ? `${envNote} ${hints[field]}` : envNote) : hints[field];
  }
  const platformEnv = overridden.has(ENV.platform);
  for (const id of ['platform-amocrm', 'platform-kommo']) $(id).disabled = platformEnv;
  $('platform-env').hidden = !platformEnv;
  $('platform-env').textContent = platformEnv ? t('ui.setup.from_env', { var: ENV.platform }) : '';
  $('emulator-note').hidden = !s.emulator;
  $('emulator-note').textContent = s.emulator ? t('ui.setup.emulator', { url: s.emulator }) : '';
  $('setup-cancel').hidden = !s.configured;
  secretStored = !!s.client_secret_set;
  renderIntegrations(s);
  showError('setup-error', null);
}

function payload() {
  const overridden = new Set(current?.overridden || []);
  const out = {};
  if (!overridden.has(ENV.client_id)) out.client_id = $('client-id').value.trim();
  const secret = $('client-secret').value.trim();
  if (secret && !overridden.has(ENV.client_secret)) out.client_secret = secret;
  if (!overridden.has(ENV.redirect_uri)) out.redirect_uri = $('redirect-uri').value.trim();
  if (!overridden.has(ENV.platform)) {
    out.platform = $('platform-kommo').checked ? 'kommo' : 'amocrm';
  }
  return out;
}

function validateAll() {
  return Object.keys(INPUT).map(validate).every(Boolean);
}

/** Checks one field as the engine would, so most mistakes show before saving. */
function validate(field) {
  const id = INPUT[field];
  if ($(id).disabled) return fieldError(id, '');
  const value = $(id).value.trim();
  let problem = '';
  if (field === 'client_id') {
    if (!value) problem = t('ui.validate.required');
    else if (/\s/.test(value)) problem = t('ui.validate.no_spaces');
    else if (value.length > 200) problem = t('ui.validate.too_long');
  } else if (field === 'client_secret') {
    if (!value && !secretStored) problem = t('ui.validate.required');
  } else if (field === 'redirect_uri') {
    problem = redirectProblem(value);
  }
  return fieldError(id, problem);
}

function redirectProblem(value) {
  if (!value) return t('ui.validate.required');
  let url;
  try {
    url = new URL(value);
  } catch {
    return t('ui.validate.not_url');
  }
  if (!['http:', 'https:'].includes(url.protocol) || !url.hostname) return t('ui.validate.not_http');
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol === 'http:' && !loopback) return t('ui.validate.http_not_loopback');
  return '';
}
