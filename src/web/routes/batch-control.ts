import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../../auth/authorise.js';
import { BatchNotCancellableError, cancelBatch, cancellationEvent } from '../../pipeline/cancel.js';
import { auditAs } from '../access-hook.js';
import { batchFor } from '../batch-access.js';
import { batchWatcher } from '../batch-view.js';
import { sendProblem } from '../problems.js';
import type { WebContext } from '../server.js';

/**
 * `POST /api/batches/:id/cancel`: stops a batch for good (src/pipeline/cancel.ts, as `pds-trace
 * cancel` does): its submitter, or an operator. Scripts send JSON; the batch page's form posts here
 * too (with its CSRF token) and is sent back to the page. What was traced is kept; every stage in
 * any process skips a cancelled batch from its folder, so queued jobs need no tidying to stop.
 */

/** A browser's form (not a script): answered with pages, not JSON. */
function fromForm(request: FastifyRequest): boolean {
  return (request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
}

function refuse(request: FastifyRequest, reply: FastifyReply, status: number, message: string): FastifyReply {
  if (fromForm(request)) return reply.page('error.njk', { title: 'This cannot be done now', message }, status);
  return sendProblem(request, reply, status, 'not_cancellable', message);
}

export function registerBatchControl(app: FastifyInstance, ctx: WebContext): void {
  app.post<{ Params: { id: string } }>('/api/batches/:id/cancel', async (request, reply) => {
    const meta = await batchFor(ctx, request, reply, request.params.id, 'control');
    if (!meta) return reply;
    const principal = request.principal as Principal;
    try {
      await cancelBatch(ctx.config.dataDir, meta, principal.userId, new Date(ctx.clock()));
    } catch (err) {
      if (err instanceof BatchNotCancellableError) return refuse(request, reply, 409, err.message);
      throw err;
    }
    const watcher = batchWatcher(ctx.batches, meta.id);
    await watcher.poll();
    const done = watcher.progress.done;
    await ctx.audit.append(auditAs(ctx, principal, [cancellationEvent(meta, done, 'web')]));
    await ctx.batches.live?.clear(meta.id).catch(() => undefined);
    if (fromForm(request)) return reply.redirect(`/batches/${meta.id}`, 303);
    return { id: meta.id, state: 'cancelled', done };
  });
}
