import type { FastifyReply, FastifyRequest } from 'fastify';
import { AccessDeniedError, requireBatchControl, requireOwnBatch, type Principal } from '../auth/authorise.js';
import type { Permission } from '../auth/roles.js';
import { loadBatch, type BatchMeta } from '../pipeline/batch.js';
import { assertBatchId, InvalidBatchIdError } from '../pipeline/batch-id.js';
import { auditAs } from './access-hook.js';
import { sendProblem } from './problems.js';
import type { WebContext } from './server.js';

/** What a route needs of a batch: a batch-scoped permission (requireOwnBatch), or control of it. */
export type BatchNeed = Permission | 'control';

/** Throws AccessDeniedError unless the principal has `need` on the batch. */
function requireBatchNeed(principal: Principal, need: BatchNeed, meta: BatchMeta): void {
  const batch = { id: meta.id, user: meta.options.user };
  if (need === 'control') requireBatchControl(principal, batch);
  else requireOwnBatch(principal, need, batch);
}

/** Whether the principal has `need` on the batch (to offer a download or a cancel button). */
export function mayUse(principal: Principal, need: BatchNeed, meta: BatchMeta): boolean {
  try {
    requireBatchNeed(principal, need, meta);
    return true;
  } catch (err) {
    if (err instanceof AccessDeniedError) return false;
    throw err;
  }
}

/**
 * A batch named in a route, for a principal who needs `permission` on it (requireOwnBatch: their
 * own, unless `batch.read.any` lets them read any batch's status), or `control` of it to resume,
 * retry or cancel it (requireBatchControl: their own, or any for an operator). A batch they may not see is
 * answered exactly like one that does not exist (404), so ids cannot be probed; the refusal is
 * audited as the CLI audits one.
 */
export async function batchFor(ctx: WebContext, request: FastifyRequest, reply: FastifyReply, id: string, permission: BatchNeed): Promise<BatchMeta | undefined> {
  const principal = request.principal as Principal;
  const notFound = () => {
    sendProblem(request, reply, 404, 'not_found', 'There is no batch with that id that you can see.');
    return undefined;
  };
  let meta: BatchMeta;
  try {
    assertBatchId(id);
    meta = await loadBatch(ctx.config.dataDir, id);
  } catch (err) {
    if (err instanceof InvalidBatchIdError || (err as NodeJS.ErrnoException).code === 'ENOENT') return notFound();
    throw err;
  }
  try {
    requireBatchNeed(principal, permission, meta);
  } catch (err) {
    if (!(err instanceof AccessDeniedError)) throw err;
    const route = `${request.method} ${request.routeOptions.url ?? ''}`;
    await ctx.audit.append(auditAs(ctx, principal, [{ kind: 'access_denied', batchId: meta.id, outcome: 'refused', detail: `web=${route}` }]));
    return notFound();
  }
  return meta;
}
