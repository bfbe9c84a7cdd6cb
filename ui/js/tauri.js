// The bridge to the Rust side: commands in, events out. Nothing here holds a secret.

const core = window.__TAURI__?.core;
const event = window.__TAURI__?.event;

/** Calls an app command; rejects with the command's {kind, message, fix, amo?, field?}. */
export async function call(command, args = {}) {
  if (!core) throw { kind: 'no_bridge', message: 'window.__TAURI__ is missing', fix: '' };
  return core.invoke(command, args);
}

const handlers = new Map();
let following = null;

/**
 * Follows an app event. Every event reaches the page through one Tauri event (`app:event`,
 * `{name, payload}`), listened to from the first call on; resolves once that listener is
 * registered.
 */
export function on(name, handler) {
  handlers.set(name, [...(handlers.get(name) || []), handler]);
  following ??= event
    ? event.listen('app:event', (e) => {
      for (const h of handlers.get(e.payload.name) || []) h(e.payload.payload);
    })
    : Promise.resolve();
  return following;
}

/** Event names the Rust side emits (src-tauri/src/events.rs). */
export const EVENTS = {
  callbackReceived: 'engine:callback_received',
  connected: 'engine:connected',
  refreshed: 'engine:refreshed',
  failed: 'engine:failed',
  disconnected: 'engine:disconnected',
  activity: 'engine:activity',
  lagged: 'engine:lagged',
  flowEnded: 'flow:ended',
};
