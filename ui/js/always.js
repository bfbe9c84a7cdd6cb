// Always on: start at login and notifications, the no-tray note, and showing the card a
// notification or the tray menu opened the window at.

import { call, on } from './tauri.js';
import { t } from './i18n.js';
import { $, errorBox, toast } from './dom.js';

let pendingFocus = null;

export function initAlways() {
  for (const [id, key] of [['always-autostart', 'autostart'], ['always-notifications', 'notifications']]) {
    $(id).addEventListener('change', (e) => save(key, e.currentTarget));
  }
  on('app:focus', (p) => showCard(p.account));
}

/** Shows the panel under the dashboard (not during setup) with the saved switches. */
export function renderAlways(o, setup) {
  const a = o.always;
  $('always-view').hidden = setup || !a;
  if (!a) return;
  $('always-autostart').checked = a.autostart;
  $('always-notifications').checked = a.notifications;
  $('always-no-tray').hidden = a.tray;
  if (o.focus) pendingFocus = o.focus;
  if (pendingFocus) showCard(pendingFocus);
}

async function save(key, input) {
  const slot = $('always-error');
  slot.replaceChildren();
  input.disabled = true;
  try {
    const a = await call('save_always', { [key]: input.checked });
    $('always-autostart').checked = a.autostart;
    $('always-notifications').checked = a.notifications;
    toast(t('always.saved'));
  } catch (err) {
    input.checked = !input.checked;
    slot.replaceChildren(errorBox(err));
  } finally {
    input.disabled = false;
  }
}

function showCard(account) {
  const card = document.querySelector(`[data-account="${CSS.escape(account)}"]`);
  if (!card) {
    pendingFocus = account;
    return;
  }
  pendingFocus = null;
  card.scrollIntoView({ block: 'center' });
  card.classList.add('focused');
  card.setAttribute('tabindex', '-1');
  card.focus();
}
