/**
 * `onAbort(signal, callback)`: runs `callback` when `signal` aborts, until the returned function
 * unsubscribes it. However many wait on one signal, the signal itself gets one listener.
 *
 * Why: a batch's shutdown signal is shared by every row in progress, and each row waiting for the
 * SMSP limit, in flight or sleeping between retries listened on it itself. Twice SMSP_MAX_IN_FLIGHT
 * rows are in progress, so any limit above five put more than ten listeners on one signal and Node
 * printed `MaxListenersExceededWarning: Possible EventTarget memory leak` on every run (18 times in
 * one worker's log). Raising the limit would only hide the count; here the count stays at one.
 */

const waiting = new WeakMap<AbortSignal, Set<() => void>>();

const nothing = () => {};

export function onAbort(signal: AbortSignal | undefined, callback: () => void): () => void {
  // Like addEventListener: a signal that has already aborted fires nothing (callers check first).
  if (!signal || signal.aborted) return nothing;
  let callbacks = waiting.get(signal);
  if (!callbacks) {
    const created = new Set<() => void>();
    callbacks = created;
    waiting.set(signal, created);
    signal.addEventListener(
      'abort',
      () => {
        waiting.delete(signal);
        // Over a copy, skipping any that an earlier callback unsubscribed meanwhile.
        for (const run of [...created]) if (created.has(run)) run();
      },
      { once: true },
    );
  }
  // A wrapper of its own, so the same function subscribed twice is two subscriptions.
  const subscription = () => callback();
  callbacks.add(subscription);
  return () => {
    callbacks.delete(subscription);
  };
}
