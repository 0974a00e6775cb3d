import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { onAbort } from '../../src/smsp/on-abort.js';

describe('onAbort', () => {
  it('puts one listener on a signal however many wait on it, and runs each live subscription once', () => {
    const controller = new AbortController();
    const calls: number[] = [];
    const unsubscribes = Array.from({ length: 64 }, (_, i) => onAbort(controller.signal, () => calls.push(i)));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    for (const unsubscribe of unsubscribes.slice(0, 32)) unsubscribe();
    controller.abort();
    expect(calls).toEqual(Array.from({ length: 32 }, (_, i) => 32 + i));
    controller.abort();
    expect(calls).toHaveLength(32);
  });

  it('leaves nothing behind on a signal that never aborts once every subscription has ended', () => {
    const controller = new AbortController();
    let called = false;
    for (let i = 0; i < 10_000; i++) onAbort(controller.signal, () => (called = true))();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort();
    expect(called).toBe(false);
  });

  it('lets a subscription end others while the signal fans out, and fires nothing for a signal already aborted', () => {
    const controller = new AbortController();
    const calls: string[] = [];
    let second = () => {};
    onAbort(controller.signal, () => {
      calls.push('first');
      second();
    });
    second = onAbort(controller.signal, () => calls.push('second'));
    controller.abort();
    expect(calls).toEqual(['first']);
    let late = false;
    onAbort(controller.signal, () => (late = true));
    expect(late).toBe(false);
    expect(onAbort(undefined, () => {})).toBeTypeOf('function');
  });
});
