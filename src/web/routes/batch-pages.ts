import type { FastifyInstance } from 'fastify';
import { hasPermission, type Principal } from '../../auth/authorise.js';
import { loadBatch } from '../../pipeline/batch.js';
import { batchFor, mayUse } from '../batch-access.js';
import { batchActionsView } from '../batch-actions-view.js';
import { batchDownloads } from '../batch-files.js';
import { resultsView } from '../batch-results.js';
import { listVisibleBatches, viewBatch } from '../batch-view.js';
import type { WebContext } from '../server.js';

/**
 * `/batches` and `/batches/:id`: the batches a user may see, and one batch in full: its progress
 * (kept up to date by /app/batch-progress.mjs from `GET /api/batches/:id/events`; without script, a
 * refresh link), the early low-match warning with a cancel button, and once done, its findings and
 * files.
 */
export function registerBatchPages(app: FastifyInstance, ctx: WebContext): void {
  app.get('/batches', async (request, reply) => {
    const principal = request.principal as Principal;
    const any = hasPermission(principal, 'batch.read.any');
    const batches = await listVisibleBatches(ctx.batches, principal);
    return reply.page('batches.njk', { title: any ? 'All batches' : 'Your batches', batches, showSubmitter: any, confidential: true });
  });

  app.get<{ Params: { id: string } }>('/batches/:id', async (request, reply) => {
    const principal = request.principal as Principal;
    const meta = await batchFor(ctx, request, reply, request.params.id, 'batch.read.own');
    if (!meta) return reply;
    const batch = await viewBatch(ctx.batches, meta.id);
    // Read again once ended: it may have finished since batchFor read it, and its outputs are news.
    const current = batch.ended ? await loadBatch(ctx.config.dataDir, meta.id) : meta;
    // The results are only ever the submitter's (requireOwnBatch), whatever else one may read.
    const mayDownload = mayUse(principal, 'results.download', meta);
    return reply.page('batch.njk', {
      title: `Batch ${batch.fileName}`,
      batch,
      mayDownload,
      mayControl: mayUse(principal, 'control', meta),
      actions: await batchActionsView(ctx, principal, current, batch),
      downloads: batchDownloads(current),
      results: mayDownload ? await resultsView(current) : undefined,
      confidential: true,
    });
  });
}
