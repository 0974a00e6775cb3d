import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../csv/output/atomic-file.js';
import { batchPaths } from './batch.js';
import { describeProvider, sameProvider, settingsFor, type Provider, type ProviderMismatchError } from './provider.js';

/**
 * Why a batch is not moving: a worker on another provider refused its trace jobs, which now wait
 * for a worker on the right one. Kept in the batch folder (`provider-hold.json`) rather than in
 * Redis so `status` and the submitting `trace` see it from the folder alone, like everything else
 * about a batch. A worker on the right provider removes it when it traces the batch.
 */
export interface ProviderHold {
  /** What the batch is for; absent for a batch that records none (made by an older pds-trace). */
  batchProvider?: Provider;
  /** The provider of the (first) worker that refused it. */
  workerProvider: Provider;
  /** When that worker first refused it (ISO 8601). */
  since: string;
  /** The refusal in words, settings included: what a person waiting needs to read. */
  message: string;
}

function holdPath(dataDir: string, batchId: string): string {
  return path.join(batchPaths(dataDir, batchId).dir, 'provider-hold.json');
}

export async function readProviderHold(dataDir: string, batchId: string): Promise<ProviderHold | undefined> {
  try {
    return JSON.parse(await readFile(holdPath(dataDir, batchId), 'utf8')) as ProviderHold;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Records the refusal unless the same kind of worker already did: every chunk of a batch is
 * refused, again after every wait, and only the first says anything new. Returns true when it wrote
 * the record, so the caller logs one line per batch and refusing provider, not one per job.
 */
export async function recordProviderHold(dataDir: string, refusal: ProviderMismatchError, now = new Date()): Promise<boolean> {
  const existing = await readProviderHold(dataDir, refusal.batchId);
  if (existing && sameProvider(existing.workerProvider, refusal.workerProvider)) return false;
  const hold: ProviderHold = {
    ...(refusal.batchProvider ? { batchProvider: refusal.batchProvider } : {}),
    workerProvider: refusal.workerProvider,
    since: now.toISOString(),
    message: refusal.message,
  };
  await writeFileAtomic(holdPath(dataDir, refusal.batchId), `${JSON.stringify(hold, null, 2)}\n`);
  return true;
}

/** A worker on the right provider has the batch: nothing is holding it any more. */
export async function clearProviderHold(dataDir: string, batchId: string): Promise<void> {
  await rm(holdPath(dataDir, batchId), { force: true });
}

/**
 * The hold as one line for `status` and the progress display: why, and what would move it. The
 * same for every refusal by workers on one provider (no time in it), so a follower can show it
 * once: while a right and a wrong worker both run, the hold is cleared and written again by turns.
 */
export function holdNotice(hold: ProviderHold): string {
  const why = hold.batchProvider
    ? `it is for ${describeProvider(hold.batchProvider)} and a worker on ${describeProvider(hold.workerProvider)} refused it; ` +
      `it waits for a worker with ${settingsFor(hold.batchProvider)}`
    : 'it records no SMSP provider (made by an older pds-trace), so no worker traces it; submit the file again';
  return `WAITING: ${why}`;
}
