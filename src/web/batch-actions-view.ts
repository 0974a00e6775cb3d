import type { Principal } from '../auth/authorise.js';
import { looksStopped } from '../pipeline/batch-activity.js';
import type { BatchMeta } from '../pipeline/batch.js';
import { mayUse } from './batch-access.js';
import { retriesOf, type RetryState } from './batch-retries.js';
import type { BatchView } from './batch-view.js';
import type { WebContext } from './server.js';

/**
 * What the batch page offers to do with a batch beyond cancelling it: resume it when it has
 * stopped unfinished, trace its error rows again once it is done, and (to analysts) download its
 * research file. Offered only where the action would be taken: the routes check again.
 */
export interface BatchActionsView {
  /** Unfinished, and nothing has written to it for a while: nothing is tracing it. */
  resume: boolean;
  /** Finished with `error` rows, work files kept, and no retry already under way. */
  retry: boolean;
  errorRows: number;
  /** This server's retry of the batch: under way, or how the last one ended. */
  lastRetry?: RetryState;
  /** The research file, to a holder of research.download for their own finished batch. */
  research: boolean;
}

export async function batchActionsView(ctx: WebContext, principal: Principal, meta: BatchMeta, view: BatchView): Promise<BatchActionsView> {
  const control = mayUse(principal, 'control', meta);
  const kept = meta.workFilesRemoved === undefined;
  const unfinished = meta.state === 'created' || meta.state === 'ingested';
  const errorRows = view.byStatus.find((count) => count.status === 'error')?.count ?? 0;
  const retries = retriesOf(ctx);
  return {
    resume: control && kept && unfinished && (await looksStopped(ctx.config.dataDir, meta.id, ctx.clock())),
    retry: control && kept && meta.state === 'assembled' && errorRows > 0 && !retries.isRunning(meta.id),
    errorRows,
    lastRetry: retries.stateOf(meta.id),
    research: meta.state === 'assembled' && kept && mayUse(principal, 'research.download', meta),
  };
}
