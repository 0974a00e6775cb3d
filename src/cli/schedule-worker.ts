import { Worker } from 'bullmq';
import { stoppable, type StoppableWorkers } from '../../jobs/worker-shutdown.js';
import { openRecordedUserStore } from '../auth/recorded-user-store.js';
import { serviceAccountSubmitter } from '../intake/account-submitter.js';
import { queueRunner } from '../intake/runners.js';
import { scheduledJobProcessor, SCHEDULE_QUEUE, type ScheduledJobData } from '../intake/schedules/schedule-queue.js';
import type { Logger } from '../log.js';
import type { Provider } from '../pipeline/provider.js';
import type { RedisRuntime } from './redis-runtime.js';
import type { CommandSession } from './session.js';

/**
 * The `schedule` queue in a `worker` process, when PDS_TRACE_SCHEDULES names a schedules file: each
 * due run is submitted through the intake as its schedule's owner, onto the queues every worker
 * traces from. One at a time: a run only submits, it does not wait for its batch.
 */
export async function startScheduleWorker(
  session: CommandSession,
  runtime: RedisRuntime,
  provider: Provider,
  logger: Logger,
): Promise<(StoppableWorkers & { worker: Worker }) | undefined> {
  const { config } = session;
  if (!config.schedulesFile) return undefined;
  const users = await openRecordedUserStore(config.dataDir, { sink: session.audit, trail: session.audit, origin: config.smsp.auditIdentity.uri });
  const worker = new Worker<ScheduledJobData>(
    SCHEDULE_QUEUE,
    scheduledJobProcessor({
      dataDir: config.dataDir,
      schedulesFile: config.schedulesFile,
      intake: { dataDir: config.dataDir, provider, duplicateWindowHours: config.duplicateWindowHours },
      runner: queueRunner(config.dataDir, runtime.queues),
      submitterFor: (owner) => serviceAccountSubmitter(users, session.audit, owner, config.smsp.auditIdentity.uri),
    }),
    { connection: runtime.redis, prefix: config.redisPrefix, concurrency: 1 },
  );
  worker.on('completed', (job, run: { schedule: string; state: string; batchId?: string; late?: boolean; reason?: string }) =>
    logger.info('scheduled run', { schedule: run.schedule, state: run.state, batchId: run.batchId, late: run.late }),
  );
  worker.on('failed', (job, err) => logger.warn('scheduled run failed', { jobId: job?.id, error: err.message }));
  return { worker, ...stoppable([worker]) };
}
