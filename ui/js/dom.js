// Small DOM helpers: elements, inline errors, copying, the toast.

import { t } from './i18n.js';

export const $ = (id) => document.getElementById(id);

/** Creates an element with attributes and children (strings become text, never HTML). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

/** An error as the user reads it: what happened, what to do, and amoCRM's own words. */
export function errorBox(err) {
  const view = normalise(err);
  const box = el('div', { class: 'error-box', role: 'alert', 'data-testid': 'error-box', 'data-kind': view.kind },
    el('p', { class: 'error-message', 'data-testid': 'error-message' }, quoted(view.message, view.quote)),
    view.fix ? el('p', { class: 'error-fix', 'data-testid': 'error-fix' }, view.fix) : null,
  );
  const amo = view.amo;
  if (amo && (amo.title || amo.detail || amo.hint)) {
    const said = el('div', { class: 'amo-said', 'data-testid': 'amo-said' },
      el('span', { class: 'amo-label' }, t('ui.error.amo_said', { status: amo.status })));
    // amoCRM's own words, quoted as they came.
    for (const [part, text] of [['title', amo.title], ['detail', amo.detail], ['hint', amo.hint]]) {
      if (text) said.append(el('span', { class: `amo-${part}`, 'data-testid': `amo-${part}`, translate: 'no' }, text));
    }
    box.append(said);
  }
  return box;
}

/** `text` with `quote` inside it marked as quoted as it came (not in the user's language). */
function quoted(text, quote) {
  const at = quote ? text.indexOf(quote) : -1;
  if (at < 0) return text;
  return [text.slice(0, at), el('span', { translate: 'no' }, quote), text.slice(at + quote.length)];
}

/** Shows `err` in the slot with id `slotId`, or clears it when `err` is null. */
export function showError(slotId, err) {
  const slot = $(slotId);
  slot.replaceChildren();
  if (err) slot.append(errorBox(err));
}

function normalise(err) {
  if (err && typeof err === 'object' && 'message' in err) return err;
  return { kind: 'unknown', message: t('ui.error.unknown'), fix: String(err ?? '') };
}

/** Marks a field invalid with `message`, or valid when `message` is empty. */
export function fieldError(inputId, message) {
  const input = $(inputId);
  const slot = $(`${inputId}-error`);
  slot.textContent = message || '';
  if (message) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
  return !message;
}

/** Copies `text` to the clipboard; true on success. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = el('textarea', { class: 'offscreen', readonly: true, 'aria-hidden': 'true' });
    area.value = text;
    document.body.append(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    area.remove();
    return ok;
  }
}

/** Says `message` to screen readers through the page's live region, without showing it. */
export function announce(message) {
  const region = $('announcer');
  region.textContent = '';
  // A new text node in the next frame: assistive technology reads a change, even of the same words.
  requestAnimationFrame(() => { region.textContent = message; });
}

let toastTimer;
/** A short message at the bottom of the window, read out by screen readers. */
export function toast(message) {
  const box = $('toast');
  box.textContent = message;
  box.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => box.classList.remove('show'), 2600);
}

/** Runs `task` with `button` disabled and marked busy. */
export async function busy(button, task) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await task();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}
