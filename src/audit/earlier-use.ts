import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { PIN_FILE, readPin } from './store-pin.js';

/**
 * Whether a data folder used a file audit store before: then a missing store was deleted, and the
 * file store must refuse to start a fresh, valid-looking chain in its place (file-store.ts).
 *
 * Evidence, outside the audit folder: traced batch results (their exchanges were audited before
 * they were written), and the pin naming the file store (store-pin.ts). users.json does not count:
 * the first admin (and test fixtures) create it before any audit store exists. A pin naming
 * PostgreSQL means the events are there, so a folder moved from PostgreSQL may start a file store.
 * Someone who deletes all of this has emptied the data folder; only witness heads kept elsewhere
 * (`audit verify --witnesses`) show that.
 */

async function listDir(dir: string): Promise<string[]> {
  return readdir(dir).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' || err.code === 'ENOTDIR' ? [] : Promise.reject(err)));
}

/** A batch under `<dataDir>/batches/` with chunk results, if any. */
async function batchWithResults(dataDir: string): Promise<string | undefined> {
  const batchesDir = path.join(dataDir, 'batches');
  for (const batchId of await listDir(batchesDir)) {
    if ((await listDir(path.join(batchesDir, batchId, 'results'))).some((n) => n.endsWith('.jsonl'))) return batchId;
  }
  return undefined;
}

/** What shows the data folder used a file store before, in words for a message; undefined if nothing. */
export async function fileStoreUsedBefore(dataDir: string): Promise<string | undefined> {
  const pin = await readPin(dataDir);
  if (pin?.store === 'postgresql') return undefined;
  // Batches first: they say more than a pin, which a first use may just have written.
  const batchId = await batchWithResults(dataDir);
  if (batchId !== undefined) return `batch ${batchId} has traced results`;
  return pin ? `${PIN_FILE} names the file store` : undefined;
}
