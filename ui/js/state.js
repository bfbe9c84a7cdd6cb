// A connection's state as the page shows it: its badge, whether it needs the user, and how
// bad it is (the tray's `needs_attention` counts the same ones).

import { t } from './i18n.js';
import { el } from './dom.js';

/** Shapes beside the state's word, so the state never rests on colour alone. */
const BADGE_ICONS = { connected: '✓', expires_soon: '◷', expired: '!', reconnect_needed: '!' };

/** The state's badge: its shape and its word; `testid` names the word. */
export function badge(state, testid = 'state-badge') {
  return el('span', { class: `badge ${state}`, 'data-state': state },
    el('span', { class: 'badge-icon', 'aria-hidden': 'true' }, BADGE_ICONS[state] || ''),
    el('span', { 'data-testid': testid, 'data-state': state }, t(`state.${state}`)));
}

/** The connection cannot be used as it is: connect again, or its token ran out. */
export function needsAttention(c) {
  return c.state === 'reconnect_needed' || c.expired || !c.usable;
}

/** 0 for the worst state, growing as it gets better: what to look at first. */
export function severity(c) {
  if (c.state === 'reconnect_needed') return 0;
  if (c.expired) return c.usable ? 2 : 1;
  if (!c.usable) return 3;
  return c.state === 'expires_soon' ? 4 : 5;
}
