import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import { AuthenticationError } from '../../auth/authenticate.js';
import type { Principal } from '../../auth/authorise.js';
import { batchFor } from '../batch-access.js';
import { isFileKind, sendBatchFile } from '../batch-files.js';
import { batchJson, listVisibleBatches, viewBatch } from '../batch-view.js';
import { sendProblem } from '../problems.js';
import type { WebContext } from '../server.js';
import { endSession, refusalMessage, startSession } from './sign-in.js';

/**
 * The JSON API for scripts, at the paths the permission matrix names. Errors are `{ code, message }`
 * (problems.ts): 401 without a session, 403 when the role may not, 404 for a batch the caller may
 * not see. `POST /api/batches` (submission) belongs to the intake and is registered with it; a
 * batch's live progress and its cancelling are in batch-events.ts and batch-control.ts.
 */

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
    const batches = await listVisibleBatches(ctx.batches, request.principal as Principal);
    return { batches: batches.map(batchJson) };
  });

  app.get<{ Params: { id: string } }>('/api/batches/:id', async (request, reply) => {
    const meta = await batchFor(ctx, request, reply, request.params.id, 'batch.read.own');
    if (!meta) return reply;
    return batchJson(await viewBatch(ctx.batches, meta.id));
  });

  app.get<{ Params: { id: string } }>('/api/batches/:id/results', async (request, reply) => {
    const meta = await batchFor(ctx, request, reply, request.params.id, 'results.download');
    if (!meta) return reply;
    return sendBatchFile(ctx, request, reply, meta, 'results');
  });

  app.get<{ Params: { id: string; kind: string } }>('/api/batches/:id/files/:kind', async (request, reply) => {
    const meta = await batchFor(ctx, request, reply, request.params.id, 'results.download');
    if (!meta) return reply;
    const { kind } = request.params;
    if (!isFileKind(kind)) return sendProblem(request, reply, 404, 'not_found', 'No such file: results, audit, summary.json, summary.html, back-office or discrepancies.');
    return sendBatchFile(ctx, request, reply, meta, kind);
  });
}
