import { Queue, type ConnectionOptions, type Job } from 'bullmq';
import { loadBatch } from '../../pipeline/batch.js';
import { firesNearClockChange } from './clock-changes.js';
import { listRuns, type ScheduleRun } from './schedule-runs.js';
import type { Schedule } from './schedule-file.js';
import { runScheduledSlot, type ScheduledRunDeps } from './run-scheduled.js';

/**
 * The schedules as BullMQ job schedulers on one queue, `schedule`: Redis holds when each fires, so
 * no process of ours keeps time, and any worker takes the job when it is due. A slot missed while no
 * worker ran stays as one due job and runs once on return; BullMQ then schedules the next from now,
 * so missed nights do not pile up.
 */

export const SCHEDULE_QUEUE = 'schedule';

export interface ScheduledJobData {
  schedule: string;
  /** Set by `schedule run` (epoch ms); a scheduler's job carries its slot in its options. */
  slot?: number;
}

export function openScheduleQueue(connection: ConnectionOptions, prefix: string): Queue<ScheduledJobData> {
  return new Queue<ScheduledJobData>(SCHEDULE_QUEUE, { connection, prefix, defaultJobOptions: { attempts: 3, backoff: { type: 'exponential', delay: 5000 }, removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } } });
}

export interface SyncReport {
  installed: string[];
  removed: string[];
  /** `schedule "x": fires at … during the clock change …`, one per schedule concerned. */
  warnings: string[];
}

/**
 * Makes Redis hold exactly the file's schedules: same call, same result (idempotent). A schedule
 * already installed as the file has it is left alone: upserting it again replaces its pending job
 * with one for the next slot from now, and a slot that fell due while no worker ran (a sync at
 * start-up, before the workers) would never run.
 */
export async function syncSchedules(queue: Queue<ScheduledJobData>, schedules: readonly Schedule[], now = new Date()): Promise<SyncReport> {
  const names = new Set(schedules.map((s) => s.name));
  const current = new Map((await queue.getJobSchedulers(0, -1)).map((j) => [j.key, j]));
  const installed: string[] = [];
  const warnings: string[] = [];
  for (const s of schedules) {
    const existing = current.get(s.name);
    const unchanged = existing?.pattern === s.cron && existing.tz === s.timezone && existing.template?.data?.schedule === s.name && existing.next !== undefined;
    if (!unchanged) await queue.upsertJobScheduler(s.name, { pattern: s.cron, tz: s.timezone }, { name: 'scheduled-run', data: { schedule: s.name } });
    installed.push(s.name);
    const near = firesNearClockChange(s.cron, s.timezone, now);
    if (near.length > 0) {
      const days = near.slice(0, 3).map((d) => d.toISOString().slice(0, 10)).join(', ');
      warnings.push(`schedule "${s.name}": fires within an hour of a clock change in ${s.timezone} (${days}): that night's run may be skipped or made twice by the clock; choose a time outside 00:00–03:00`);
    }
  }
  const removed: string[] = [];
  for (const id of current.keys()) {
    if (!names.has(id)) {
      await queue.removeJobScheduler(id);
      removed.push(id);
    }
  }
  return { installed, removed, warnings };
}

export interface ScheduleStatus {
  name: string;
  cron: string;
  timezone: string;
  /** Next run as BullMQ holds it; absent when not installed (run `schedule sync`). */
  next?: string;
  last?: ScheduleRun;
  /** What became of the last run: failed (with reason), the batch's state, or nothing yet. */
  lastOutcome: string;
}

async function outcomeOf(dataDir: string, run: ScheduleRun | undefined): Promise<string> {
  if (!run) return 'not run yet';
  if (run.state === 'failed') return `failed: ${run.reason ?? 'no reason recorded'}`;
  if (!run.batchId) return 'running';
  const batch = await loadBatch(dataDir, run.batchId).catch(() => undefined);
  return batch ? `batch ${batch.id} ${batch.state}` : `batch ${run.batchId} (its folder is gone)`;
}

/** Without a queue (a web service without REDIS_URL), the runs recorded in the data folder only: no next run. */
export async function scheduleStatuses(queue: Queue<ScheduledJobData> | undefined, dataDir: string, schedules: readonly Schedule[]): Promise<ScheduleStatus[]> {
  const installed = new Map((queue ? await queue.getJobSchedulers(0, -1) : []).map((j) => [j.key, j]));
  return Promise.all(
    schedules.map(async (s) => {
      const [last] = await listRuns(dataDir, s.name);
      const next = installed.get(s.name)?.next;
      return {
        name: s.name,
        cron: s.cron,
        timezone: s.timezone,
        ...(next === undefined ? {} : { next: new Date(next).toISOString() }),
        ...(last ? { last } : {}),
        lastOutcome: await outcomeOf(dataDir, last),
      };
    }),
  );
}

/** `schedule run <name>`: one run now, as the scheduler would start it, for a slot of this minute. */
export async function runNow(queue: Queue<ScheduledJobData>, name: string, now = new Date()): Promise<Job<ScheduledJobData>> {
  const slot = Math.floor(now.getTime() / 1000) * 1000;
  return queue.add('scheduled-run', { schedule: name, slot }, { jobId: `manual-${name}-${slot}` });
}

/** The slot a scheduled job stands for: the time BullMQ's scheduler set it to fire. */
export function slotOf(job: Job<ScheduledJobData>): Date {
  const millis = job.data.slot ?? (job.opts as { prevMillis?: number }).prevMillis ?? Number(job.id?.split(':').pop());
  return new Date(Number.isFinite(millis) ? millis : job.timestamp);
}

/** The worker's processor for the `schedule` queue. */
export function scheduledJobProcessor(deps: ScheduledRunDeps): (job: Job<ScheduledJobData>) => Promise<ScheduleRun> {
  return (job) => runScheduledSlot(deps, job.data.schedule, slotOf(job), job.id ?? `job-${job.timestamp}`);
}
