import { listBatchIds, loadBatch, type BatchState } from '../../pipeline/batch.js';
import { sameProvider } from '../../pipeline/provider.js';
import type { HandedOver, WebTracing } from './tracing.js';

/**
 * Batches a `serve` tracing in its own process (no REDIS_URL) left unfinished when it stopped: it
 * takes them up again at start, as `pds-trace resume` would (ingest if not done, traced chunks
 * skipped), so an analyst's upload finishes after a restart without anyone running a command. With
 * the queues there is nothing to do here: the jobs wait in Redis for the workers.
 */

const UNFINISHED: ReadonlySet<BatchState> = new Set<BatchState>(['created', 'ingested']);

export async function resumeWebBatches(dataDir: string, tracing: WebTracing, handedOver: HandedOver): Promise<string[]> {
  if (tracing.runner.kind !== 'embedded') return [];
  const resumed: string[] = [];
  for (const id of await listBatchIds(dataDir)) {
    const meta = await loadBatch(dataDir, id).catch(() => undefined);
    // Only the web's own, on this server's provider: other ways in resume their batches themselves.
    if (!meta || meta.options.wayIn !== 'web' || !UNFINISHED.has(meta.state) || !meta.provider || !sameProvider(meta.provider, tracing.provider)) continue;
    handedOver.follow(meta.id, await tracing.runner.resume(meta, handedOver.signal));
    resumed.push(meta.id);
  }
  return resumed;
}
