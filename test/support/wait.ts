import { readdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls until `check` gives a value (anything but undefined) and returns it; past the deadline,
 * fails naming what it waited for and, from `context`, what the processes involved had said.
 * A check that throws fails the wait at once, unless `retryOnError` (a file not made yet, a port not
 * listening yet).
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  options: { timeoutMs?: number; intervalMs?: number; context?: () => string; retryOnError?: boolean } = {},
): Promise<T> {
  const { timeoutMs = 60_000, intervalMs = 100, context, retryOnError = false } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = retryOnError ? await check().catch(() => undefined) : await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${context ? `:\n${context()}` : ''}`);
    await sleep(intervalMs);
  }
}

/** A folder's entries a person would see (no dot files), sorted. */
export async function visibleNames(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => !name.startsWith('.')).sort();
}
