import type { Queue } from 'bullmq';
import type { Principal } from '../../auth/authorise.js';
import { replaceSchedules, type ScheduleChanges } from '../../intake/schedules/schedule-changes.js';
import { ScheduleFileError } from '../../intake/schedules/schedule-file.js';
import { openScheduleQueue, syncSchedules, type ScheduledJobData, type SyncReport } from '../../intake/schedules/schedule-queue.js';
import { describeRedisError, withOneShotRedis } from '../../pipeline/redis-connection-errors.js';
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

/** How long a page or request waits for Redis to answer before saying it did not. */
const REDIS_CONNECT_TIMEOUT_MS = 3_000;

/**
 * `use` with the `schedule` queue of REDIS_URL on a connection of its own, closed after: an
 * administrator's page is rare, and a Redis that is down fails it within the timeout rather than
 * holding it through an outage. Without REDIS_URL, `use(undefined)`.
 */
export async function withScheduleQueue<T>(ctx: WebContext, use: (queue: Queue<ScheduledJobData> | undefined) => Promise<T>): Promise<T> {
  const url = ctx.config.redisUrl;
  if (!url) return use(undefined);
  return withOneShotRedis(url, REDIS_CONNECT_TIMEOUT_MS, async (redis) => {
    const queue = openScheduleQueue(redis, ctx.config.redisPrefix);
    queue.on('error', () => undefined);
    try {
      return await use(queue);
    } finally {
      await queue.close();
    }
  });
}

const names = (list: readonly string[]) => list.join(',') || '-';

export async function changeSchedules(ctx: WebContext, principal: Principal, raw: unknown): Promise<ScheduleChangeResult> {
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
  try {
    synced = await withScheduleQueue(ctx, async (queue) => (queue ? syncSchedules(queue, replaced.schedules, new Date(ctx.clock())) : undefined));
  } catch (err) {
    syncError = `The schedules file is saved, but Redis did not take it (${describeRedisError(err as Error)}): run pds-trace schedule sync once Redis answers.`;
  }
  const sync = ctx.config.redisUrl ? (synced ? 'synced' : 'sync_failed') : 'no_redis';
  await ctx.audit.append(
    auditAs(ctx, principal, [{ kind: 'config_changed', outcome: 'schedules_changed', detail: `added=${names(changes.added)} changed=${names(changes.changed)} removed=${names(changes.removed)} ${sync}` }]),
  );
  return { kind: 'changed', changes, ...(synced ? { synced } : {}), ...(syncError ? { syncError } : {}) };
}
