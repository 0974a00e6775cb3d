import { Gauge } from 'prom-client';
import { listRuns } from '../intake/schedules/schedule-runs.js';
import { loadSchedules } from '../intake/schedules/schedule-file.js';
import { loadBatch } from '../pipeline/batch.js';
import type { PdsTraceMetrics } from './registry.js';

/**
 * `pdstrace_schedule_last_success_timestamp_seconds{schedule}`: when each schedule's latest run
 * that produced results finished (its batch assembled), read from the runs recorded in the data
 * folder at each scrape, so every process sharing the folder reports the same and a restart loses
 * nothing. 0 for a schedule that never succeeded. The alert that a night was missed is then
 * `time() - pdstrace_schedule_last_success_timestamp_seconds > 26 * 3600` (a day and some slack):
 * it fires whether the run failed, was never started, or never finished.
 */

/** Runs looked at per schedule, latest first: a week of failed nights and then some. */
const RUNS_LOOKED_AT = 14;

export async function lastSuccessfulRun(dataDir: string, schedule: string): Promise<Date | undefined> {
  const runs = (await listRuns(dataDir, schedule)).slice(0, RUNS_LOOKED_AT);
  for (const run of runs) {
    if (!run.batchId) continue;
    const batch = await loadBatch(dataDir, run.batchId).catch(() => undefined);
    if (batch?.state === 'assembled') return new Date(batch.finishedAt ?? run.startedAt);
  }
  return undefined;
}

export function addScheduleLastSuccess(metrics: PdsTraceMetrics, config: { dataDir: string; schedulesFile?: string }): void {
  const file = config.schedulesFile;
  if (!file) return;
  new Gauge({
    name: 'pdstrace_schedule_last_success_timestamp_seconds',
    help: 'Unix time at which each schedule\'s latest successful run finished (0: never)',
    labelNames: ['schedule'],
    registers: [metrics.registry],
    async collect() {
      // Read afresh: a schedule added to the file shows (at 0) from the next scrape.
      this.reset();
      // A schedules file that does not load is the doctor's to explain; the scrape still answers.
      for (const schedule of await loadSchedules(file).catch(() => [])) {
        const last = await lastSuccessfulRun(config.dataDir, schedule.name);
        this.set({ schedule: schedule.name }, last ? last.getTime() / 1000 : 0);
      }
    },
  });
}
