import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import type { Queue } from 'bullmq';
import type { Principal } from '../../auth/authorise.js';
import { replaceSchedules, type ScheduleChanges } from '../../intake/schedules/schedule-changes.js';
import { ScheduleFileError } from '../../intake/schedules/schedule-file.js';
import { openScheduleQueue, syncSchedules, type ScheduledJobData, type SyncReport } from '../../intake/schedules/schedule-queue.js';
import { auditAs } from '../access-hook.js';
import type { WebContext } from '../server.js';

/**
 * Replacing the schedules file (PDS_TRACE_SCHEDULES) from the web service, the API and the
 * Schedules page alike: checked by `parseSchedules` (nothing written when it finds a problem),
 * written whole and owner-only, then, with REDIS_URL, installed as `pds-trace schedule sync` does
 * (`syncSchedules`). Audited as `config_changed` naming the schedules added, changed and removed.
 */

export type ScheduleChangeResult =
  | { kind: 'not_configured' }
  | { kind: 'invalid'; problems: string[] }
  | { kind: 'changed'; changes: ScheduleChanges; synced?: SyncReport; syncError?: string };

export const NOT_CONFIGURED_MESSAGE = 'This service has no schedules file: set PDS_TRACE_SCHEDULES (the JSON file `pds-trace schedule sync` reads) for serve, then restart it.';

/** The `schedule` queue of REDIS_URL, opened on first use and closed with the app; undefined without Redis. */
export function scheduleQueueSource(app: FastifyInstance, ctx: WebContext): () => Queue<ScheduledJobData> | undefined {
  const url = ctx.config.redisUrl;
  let opened: { redis: Redis; queue: Queue<ScheduledJobData> } | undefined;
  app.addHook('onClose', async () => {
    await opened?.queue.close().catch(() => undefined);
    opened?.redis.disconnect();
  });
  return () => {
    if (!url) return undefined;
    if (!opened) {
      // Fails a request within a reconnect rather than holding it through an outage.
      const redis = new Redis(url, { maxRetriesPerRequest: 1 });
      redis.on('error', () => undefined);
      const queue = openScheduleQueue(redis, ctx.config.redisPrefix);
      queue.on('error', () => undefined);
      opened = { redis, queue };
    }
    return opened.queue;
  };
}

const names = (list: readonly string[]) => list.join(',') || '-';

export async function changeSchedules(ctx: WebContext, principal: Principal, queue: Queue<ScheduledJobData> | undefined, raw: unknown): Promise<ScheduleChangeResult> {
  const file = ctx.config.schedulesFile;
  if (!file) return { kind: 'not_configured' };
  let replaced;
  try {
    replaced = await replaceSchedules(file, raw);
  } catch (err) {
    if (!(err instanceof ScheduleFileError)) throw err;
    await ctx.audit.append(auditAs(ctx, principal, [{ kind: 'config_changed', outcome: 'refused', detail: `schedules problems=${err.problems.length}` }]));
    return { kind: 'invalid', problems: err.problems };
  }
  const { changes } = replaced;
  let synced: SyncReport | undefined;
  let syncError: string | undefined;
  if (queue) {
    try {
      synced = await syncSchedules(queue, replaced.schedules, new Date(ctx.clock()));
    } catch (err) {
      syncError = `Redis did not take the schedules (${(err as Error).message}); the file is saved: run pds-trace schedule sync once Redis answers.`;
    }
  }
  const sync = queue ? (synced ? 'synced' : 'sync_failed') : 'no_redis';
  await ctx.audit.append(
    auditAs(ctx, principal, [{ kind: 'config_changed', outcome: 'schedules_changed', detail: `added=${names(changes.added)} changed=${names(changes.changed)} removed=${names(changes.removed)} ${sync}` }]),
  );
  return { kind: 'changed', changes, ...(synced ? { synced } : {}), ...(syncError ? { syncError } : {}) };
}
