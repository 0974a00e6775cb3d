import { createReadStream } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import { AuthenticationError } from '../../auth/authenticate.js';
import type { Principal } from '../../auth/authorise.js';
import { auditAs } from '../access-hook.js';
import { batchFor } from '../batch-access.js';
import { listVisibleBatches, viewBatch, type BatchView } from '../batch-view.js';
import { sendProblem } from '../problems.js';
import type { WebContext } from '../server.js';
import { endSession, refusalMessage, startSession } from './sign-in.js';

/**
 * The JSON API for scripts, at the paths the permission matrix names. Errors are `{ code, message }`
 * (problems.ts): 401 without a session, 403 when the role may not, 404 for a batch the caller may
 * not see. `POST /api/batches` (submission) belongs to the intake and is registered with it.
 */

function batchJson(view: BatchView) {
  return {
    id: view.id,
    fileName: view.fileName,
    state: view.state,
    submittedBy: view.submittedBy,
    submittedAt: view.submittedAtIso,
    rows: view.rows ?? null,
    done: view.done,
    byStatus: Object.fromEntries(view.byStatus.map((c) => [c.status, c.count])),
    simulated: view.simulated,
    provider: view.provider,
  };
}

/** `Content-Disposition` for a file name that may hold any character (RFC 6266 / 5987). */
function attachment(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}

export function registerApiRoutes(app: FastifyInstance, ctx: WebContext, signInLimit: onRequestHookHandler): void {
  app.post<{ Body: { userId?: unknown; password?: unknown } }>('/api/session', { onRequest: signInLimit }, async (request, reply) => {
    if (!request.headers['content-type']?.startsWith('application/json')) {
      return sendProblem(request, reply, 415, 'unsupported_media_type', 'Send JSON: { "userId": "...", "password": "..." }');
    }
    const { userId, password } = request.body ?? {};
    if (typeof userId !== 'string' || typeof password !== 'string' || userId === '' || password === '') {
      return sendProblem(request, reply, 400, 'bad_request', 'Give "userId" and "password" as strings.');
    }
    try {
      const principal = await startSession(ctx, request, userId, password);
      return { userId: principal.userId, roles: principal.roles, csrfToken: reply.generateCsrf() };
    } catch (err) {
      if (err instanceof AuthenticationError) return sendProblem(request, reply, 401, 'sign_in_refused', refusalMessage(err));
      throw err;
    }
  });

  app.delete('/api/session', async (request, reply) => {
    await endSession(ctx, request);
    return reply.code(204).send();
  });

  app.get('/api/me', async (request) => {
    const { userId, roles, kind } = request.principal as Principal;
    return { userId, roles, kind };
  });

  app.get('/api/batches', async (request) => {
    const batches = await listVisibleBatches(ctx.config.dataDir, request.principal as Principal);
    return { batches: batches.map(batchJson) };
  });

  app.get<{ Params: { id: string } }>('/api/batches/:id', async (request, reply) => {
    const meta = await batchFor(ctx, request, reply, request.params.id, 'batch.read.own');
    if (!meta) return reply;
    return batchJson(await viewBatch(ctx.config.dataDir, meta.id));
  });

  app.get<{ Params: { id: string } }>('/api/batches/:id/results', async (request, reply) => {
    const meta = await batchFor(ctx, request, reply, request.params.id, 'results.download');
    if (!meta) return reply;
    if (meta.state !== 'assembled' || !meta.outputs) return sendProblem(request, reply, 409, 'not_ready', `Batch ${meta.id} is ${meta.state}: its results can be downloaded when it is done.`);
    const file = meta.outputs.results;
    const stream = createReadStream(file);
    // Opened before the download is audited and answered: a file removed since is an error, not an empty download.
    await new Promise<void>((resolve, reject) => stream.once('open', () => resolve()).once('error', reject));
    await ctx.audit.append(auditAs(ctx, request.principal as Principal, [{ kind: 'results_downloaded', batchId: meta.id, outcome: 'sent', detail: 'surface=web' }]));
    return reply
      .header('Cache-Control', 'no-store')
      .header('Content-Disposition', attachment(path.basename(file)))
      .type('text/csv; charset=utf-8')
      .send(stream);
  });
}
