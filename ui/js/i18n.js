// Words: every visible word comes from locales/<lang>.json through get_messages. Dates come
// from the engine already formatted in the language (no Intl, so no ICU in the page).

let messages = {};
let lang = 'en';

export function setCatalogue(catalogue) {
  messages = catalogue.messages || {};
  lang = catalogue.lang || 'en';
  document.documentElement.lang = lang;
}

export function currentLang() {
  return lang;
}

/** The message for `key` with `{name}` placeholders filled from `args`. */
export function t(key, args = {}) {
  let text = messages[key] ?? key;
  for (const [name, value] of Object.entries(args)) {
    text = text.split(`{${name}}`).join(String(value));
  }
  return text;
}

/** Fills `[data-i18n]` text and `[data-i18n-aria]` accessible names under `root`. */
export function applyI18n(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-aria]')) {
    el.setAttribute('aria-label', t(el.dataset.i18nAria));
  }
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) {
    el.setAttribute('placeholder', t(el.dataset.i18nPlaceholder));
  }
}

/** mm:ss left until `iso`, never negative. */
export function countdown(iso, now = Date.now()) {
  const left = Math.max(0, Math.floor((new Date(iso).getTime() - now) / 1000));
  const m = Math.floor(left / 60);
  const s = String(left % 60).padStart(2, '0');
  return { text: `${m}:${s}`, left };
}
