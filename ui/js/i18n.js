// Words and dates: every visible word comes from locales/<lang>.json through get_messages.

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

/** A date and time in the user's language and time zone. */
export function formatDateTime(iso) {
  if (!iso) return t('ui.time.never');
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

/** A clock time with seconds, for the activity list. */
export function formatClock(iso) {
  return new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
    .format(new Date(iso));
}

const UNITS = [
  ['day', 86400],
  ['hour', 3600],
  ['minute', 60],
  ['second', 1],
];

/** "in 23 hr", "5 min ago", in the user's language. */
export function relative(iso, now = Date.now()) {
  if (!iso) return '';
  const secs = Math.round((new Date(iso).getTime() - now) / 1000);
  const abs = Math.abs(secs);
  const [unit, size] = UNITS.find(([, s]) => abs >= s) || UNITS[UNITS.length - 1];
  const fmt = new Intl.RelativeTimeFormat(lang, { numeric: 'auto', style: 'short' });
  return fmt.format(Math.trunc(secs / size), unit);
}

/** mm:ss left until `iso`, never negative. */
export function countdown(iso, now = Date.now()) {
  const left = Math.max(0, Math.floor((new Date(iso).getTime() - now) / 1000));
  const m = Math.floor(left / 60);
  const s = String(left % 60).padStart(2, '0');
  return { text: `${m}:${s}`, left };
}
