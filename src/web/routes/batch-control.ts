import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../../auth/authorise.js';
import { withActor } from '../../pipeline/audit-sink.js';
import { looksStopped } from '../../pipeline/batch-activity.js';
import { assertRetryable, BatchActionRefusedError, planResume, retryBatch } from '../../pipeline/batch-actions.js';
import type { BatchMeta } from '../../pipeline/batch.js';
import { BatchNotCancellableError, cancelBatch, cancellationEvent } from '../../pipeline/cancel.js';
import { providerRefusal } from '../../pipeline/provider.js';
import { WorkFilesRemovedError } from '../../pipeline/retention.js';
import { auditAs } from '../access-hook.js';
import { batchFor } from '../batch-access.js';
import { retriesOf } from '../batch-retries.js';
import { batchWatcher } from '../batch-view.js';
import { sendProblem, type ProblemCode } from '../problems.js';
import type { WebContext } from '../server.js';
import { HandedOver, isAvailable, type TracingChoice, type WebTracing } from '../upload/tracing.js';

/**
 * Cancel, resume and retry a batch (`POST /api/batches/:id/cancel|resume|retry`), by the same rules
 * as `pds-trace cancel`, `resume` and `retry` (src/pipeline/cancel.ts, batch-actions.ts): its
 * submitter, or an operator. Scripts send JSON; the batch page's forms post here too (with their
 * CSRF token) and are sent back to the page.
 *
 * Cancel stops a batch for good; every stage in any process skips a cancelled batch from its
 * folder, so queued jobs need no tidying to stop. Resume hands the batch to this server's tracing
 * as an upload is handed (the queues, or this process). Retry traces the error rows of a finished
 * batch again here, in the background, and writes its outputs again.
 */

/** A browser's form (not a script): answered with pages, not JSON. */
function fromForm(request: FastifyRequest): boolean {
  return (request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
}

const FORM_TITLES: Partial<Record<number, string>> = { 409: 'This cannot be done now', 503: 'Batches cannot be traced here now' };

function refuse(request: FastifyRequest, reply: FastifyReply, status: number, code: ProblemCode, message: string): FastifyReply {
  if (fromForm(request)) return reply.page('error.njk', { title: FORM_TITLES[status] ?? 'There is a problem', message }, status);
  return sendProblem(request, reply, status, code, message);
}

/** Done: a form goes back to the batch page, a script gets `body` with `status`. */
function answer(request: FastifyRequest, reply: FastifyReply, meta: BatchMeta, status: number, body: Record<string, unknown>): FastifyReply {
  if (fromForm(request)) return reply.redirect(`/batches/${meta.id}`, 303);
  return reply.code(status).send(body);
}

/** The refusals of resume and retry (batch-actions.ts), as messages; anything else is no refusal. */
function refusalOf(err: unknown): string | undefined {
  return err instanceof BatchActionRefusedError || err instanceof WorkFilesRemovedError ? err.message : undefined;
}

/** This server's tracing for `meta`, or the refusal to send: none configured, or another provider. */
function tracingFor(request: FastifyRequest, reply: FastifyReply, tracing: TracingChoice, meta: BatchMeta, code: ProblemCode): WebTracing | undefined {
  if (!isAvailable(tracing)) {
    refuse(request, reply, 503, 'tracing_unavailable', tracing.unavailable);
    return undefined;
  }
  const mismatch = providerRefusal(meta, tracing.provider);
  if (mismatch) {
    refuse(request, reply, 409, code, mismatch.message);
    return undefined;
  }
  return tracing;
}

export function registerBatchControl(app: FastifyInstance, ctx: WebContext, tracing: TracingChoice = { unavailable: 'This server was started without a way to trace batches.' }): void {
  const handedOver = new HandedOver();
  const retries = retriesOf(ctx);
  app.addHook('onClose', async () => {
    await retries.stop();
    await handedOver.stop();
  });

  app.post<{ Params: { id: string } }>('/api/batches/:id/cancel', async (request, reply) => {
    const meta = await batchFor(ctx, request, reply, request.params.id, 'control');
    if (!meta) return reply;
    const principal = request.principal as Principal;
    try {
      await cancelBatch(ctx.config.dataDir, meta, principal.userId, new Date(ctx.clock()));
    } catch (err) {
      if (err instanceof BatchNotCancellableError) return refuse(request, reply, 409, 'not_cancellable', err.message);
      throw err;
    }
    const watcher = batchWatcher(ctx.batches, meta.id);
    await watcher.poll();
    const done = watcher.progress.done;
    await ctx.audit.append(auditAs(ctx, principal, [cancellationEvent(meta, done, 'web')]));
    await ctx.batches.live?.clear(meta.id).catch(() => undefined);
    return answer(request, reply, meta, 200, { id: meta.id, state: 'cancelled', done });
  });

  app.post<{ Params: { id: string } }>('/api/batches/:id/resume', async (request, reply) => {
    const meta = await batchFor(ctx, request, reply, request.params.id, 'control');
    if (!meta) return reply;
    const principal = request.principal as Principal;
    let plan: ReturnType<typeof planResume>;
    try {
      plan = planResume(meta);
    } catch (err) {
      const refusal = refusalOf(err);
      if (refusal) return refuse(request, reply, 409, 'not_resumable', refusal);
      throw err;
    }
    // As `pds-trace resume`: an ended batch is no error, there is just nothing to do.
    if (plan.kind === 'nothing') return answer(request, reply, meta, 200, { id: meta.id, state: plan.state, resumed: false });
    const runner = tracingFor(request, reply, tracing, meta, 'not_resumable');
    if (!runner) return reply;
    // A second run beside a live one would trace its rows twice: only a batch that has stopped.
    if (handedOver.isFollowing(meta.id) || !(await looksStopped(ctx.config.dataDir, meta.id, ctx.clock()))) {
      return refuse(request, reply, 409, 'not_resumable', `Batch ${meta.id} is being traced now: it can be resumed once it has stopped (nothing written to it for a few minutes).`);
    }
    await ctx.audit.append(auditAs(ctx, principal, [{ kind: 'batch_resumed', batchId: meta.id, outcome: runner.runner.kind === 'embedded' ? 'embedded' : 'queued', detail: 'surface=web' }]));
    handedOver.follow(meta.id, await runner.runnerFor(principal.userId).resume(meta, handedOver.signal));
    return answer(request, reply, meta, 202, { id: meta.id, state: meta.state, resumed: true });
  });

  app.post<{ Params: { id: string } }>('/api/batches/:id/retry', async (request, reply) => {
    const meta = await batchFor(ctx, request, reply, request.params.id, 'control');
    if (!meta) return reply;
    const principal = request.principal as Principal;
    try {
      assertRetryable(meta);
    } catch (err) {
      const refusal = refusalOf(err);
      if (refusal) return refuse(request, reply, 409, 'not_retryable', refusal);
      throw err;
    }
    const runner = tracingFor(request, reply, tracing, meta, 'not_retryable');
    if (!runner) return reply;
    const now = () => new Date(ctx.clock());
    const claim = retries.claim(meta.id, now);
    if (!claim) return refuse(request, reply, 409, 'retry_running', `The error rows of batch ${meta.id} are being traced again already: wait for that to finish.`);
    try {
      await ctx.audit.append(auditAs(ctx, principal, [{ kind: 'batch_retried', batchId: meta.id, outcome: 'started', detail: 'surface=web' }]));
    } catch (err) {
      claim.abandon();
      throw err;
    }
    claim.start(async (signal) => {
      const lent = await runner.lendCaller();
      try {
        return await retryBatch(ctx.config.dataDir, meta, lent.caller, { maxInFlight: ctx.config.smsp.maxInFlight, audit: withActor(ctx.audit, principal.userId), signal });
      } finally {
        await lent.release();
      }
    });
    return answer(request, reply, meta, 202, { id: meta.id, state: 'retrying' });
  });
}
