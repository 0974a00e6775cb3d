import { listBatchIds, loadBatch } from './batch.js';
import { readProviderHold } from './provider-hold.js';
import { hasEnded } from './watch-batch.js';

/**
 * The batches not finished yet, from the data folder alone (queues or none): those still to be
 * read or being traced, and of those the ones held because workers on another provider refused
 * them (provider-hold.ts). Ids only, oldest first: no file name, no user, nothing of the rows.
 */
export interface BatchBacklog {
  unfinished: string[];
  held: string[];
}

export async function batchBacklog(dataDir: string): Promise<BatchBacklog> {
  const backlog: BatchBacklog = { unfinished: [], held: [] };
  for (const id of await listBatchIds(dataDir)) {
    // A folder whose record cannot be read is no batch to wait for; `pds-trace status` names it.
    const meta = await loadBatch(dataDir, id).catch(() => undefined);
    if (!meta || hasEnded(meta)) continue;
    backlog.unfinished.push(id);
    // Only trace jobs are refused, so only an ingested batch can be held (as BatchWatcher reads it).
    if (meta.state === 'ingested' && (await readProviderHold(dataDir, id).catch(() => undefined))) backlog.held.push(id);
  }
  return backlog;
}
