import type { FastifyInstance } from 'fastify';
import { hasPermission, type Principal } from '../../auth/authorise.js';
import { batchFor } from '../batch-access.js';
import { listVisibleBatches, mayUse, viewBatch } from '../batch-view.js';
import type { WebContext } from '../server.js';

/** `/batches` and `/batches/:id`: the batches a user may see, and one batch in full. */
export function registerBatchPages(app: FastifyInstance, ctx: WebContext): void {
  app.get('/batches', async (request, reply) => {
    const principal = request.principal as Principal;
    const any = hasPermission(principal, 'batch.read.any');
    const batches = await listVisibleBatches(ctx.config.dataDir, principal);
    return reply.page('batches.njk', { title: any ? 'All batches' : 'Your batches', batches, showSubmitter: any, confidential: true });
  });

  app.get<{ Params: { id: string } }>('/batches/:id', async (request, reply) => {
    const principal = request.principal as Principal;
    const meta = await batchFor(ctx, request, reply, request.params.id, 'batch.read.own');
    if (!meta) return reply;
    const batch = await viewBatch(ctx.config.dataDir, meta.id);
    // The results are only ever the submitter's (requireOwnBatch), whatever else one may read.
    const mayDownload = mayUse(principal, 'results.download', meta);
    return reply.page('batch.njk', { title: `Batch ${batch.fileName}`, batch, mayDownload, confidential: true });
  });
}
