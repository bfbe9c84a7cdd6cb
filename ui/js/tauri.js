// The bridge to the Rust side: commands in, events out. Nothing here holds a secret.

const core = window.__TAURI__?.core;
const event = window.__TAURI__?.event;

/** Calls an app command; rejects with the command's {kind, message, fix, amo?, field?}. */
export async function call(command, args = {}) {
  if (!core) throw { kind: 'no_bridge', message: 'window.__TAURI__ is missing', fix: '' };
  return core.invoke(command, args);
}

/** Follows an app event; returns the unlisten function. */
export function on(name, handler) {
  if (!event) return Promise.resolve(() => {});
  return event.listen(name, (e) => handler(e.payload));
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
