// The bridge to the Rust side: commands in, events out. Nothing here holds a secret.
//
// It uses Tauri's bridge as @tauri-apps/api does underneath (`invoke`, and the event
// plugin's `listen` command with a callback id), not the 41 KB global API bundle
// (`withGlobalTauri`), which every page would parse and run before its own script.

const bridge = window.__TAURI_INTERNALS__;

/** Calls an app command; rejects with the command's {kind, message, fix, amo?, field?}. */
export async function call(command, args = {}) {
  if (!bridge) throw { kind: 'no_bridge', message: 'window.__TAURI_INTERNALS__ is missing', fix: '' };
  return bridge.invoke(command, args);
}

const handlers = new Map();
let following = null;

/** Follows an app event once `follow` has run; every event comes through `app:event`. */
export function on(name, handler) {
  handlers.set(name, [...(handlers.get(name) || []), handler]);
}

/**
 * Starts following the app's events: one Tauri event (`app:event`, `{name, payload}`) for all
 * of them. Resolves once the listener is registered; called again, returns the same promise.
 */
export function follow() {
  following ??= bridge
    ? bridge.invoke('plugin:event|listen', {
      event: 'app:event',
      target: { kind: 'Any' },
      handler: bridge.transformCallback((e) => {
        for (const h of handlers.get(e.payload.name) || []) h(e.payload.payload);
      }),
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
