// Activity: the engine's redacted log of flows and refreshes, newest first, live.

import { call } from './tauri.js';
import { t } from './i18n.js';
import { $, el } from './dom.js';

const LIMIT = 100;
let entries = [];

/** Loads the newest steps from the log. */
export async function loadActivity() {
  try {
    entries = await call('recent_activity', { limit: LIMIT });
  } catch {
    entries = [];
  }
  render();
}

/** Shows `list`, newest first (the page's first data). */
export function show(list) {
  entries = list.slice(0, LIMIT);
  render();
}

/** A step just logged (from the `engine:activity` event). */
export function addEntry(entry) {
  entries = [entry, ...entries].slice(0, LIMIT);
  const list = $('activity-list');
  list.prepend(item(entry));
  while (list.children.length > LIMIT) list.lastElementChild.remove();
  $('activity-empty').hidden = true;
}

export function render() {
  $('activity-list').replaceChildren(...entries.map(item));
  $('activity-empty').hidden = entries.length > 0;
}

function stepLabel(step) {
  const key = `ui.step.${step}`;
  const label = t(key);
  return label === key ? step : label;
}

function item(e) {
  return el('li', { class: `entry ${e.ok ? 'ok' : 'bad'}`, 'data-testid': 'activity-entry', 'data-step': e.step },
    el('span', { class: 'dot', 'aria-hidden': 'true' }),
    el('div', { class: 'entry-body' },
      el('div', { class: 'entry-step' }, stepLabel(e.step)),
      el('div', { class: 'entry-meta' },
        el('time', { datetime: e.ts }, e.clock),
        e.account ? el('span', { class: 'entry-account', translate: 'no' }, e.account) : null),
      e.shown ? el('div', { class: 'entry-detail', translate: e.verbatim ? 'no' : null }, e.shown) : null,
      e.amo ? el('div', { class: 'entry-detail' }, 'amoCRM: ', el('q', { translate: 'no' }, e.amo)) : null,
      e.ok ? null : el('span', { class: 'visually-hidden' }, t('ui.activity.failed'))));
}
