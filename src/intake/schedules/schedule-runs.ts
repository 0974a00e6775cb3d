import { mkdir, open, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../csv/output/atomic-file.js';

/**
 * Each scheduled run, recorded in the data folder by schedule and scheduled time
 * (`<data>/schedules/<name>/<slot>.json`), so one slot is traced once: the record is created
 * exclusively (O_EXCL) before anything else, so of two workers, a restart or BullMQ repeating a
 * job, exactly one goes on. Only the same job (BullMQ retrying it after a crash) may take up a
 * slot already claimed.
 */

export type RunState = 'running' | 'submitted' | 'failed';

export interface ScheduleRun {
  schedule: string;
  /** The scheduled time, ISO 8601 UTC. */
  slot: string;
  /** The BullMQ job that claimed the slot. */
  jobId: string;
  startedAt: string;
  /** Started well after its slot: a night missed while no worker ran, run once on return. */
  late: boolean;
  state: RunState;
  batchId?: string;
  /** Why a run failed, in words an operator can act on. */
  reason?: string;
}

export function scheduleRunsDir(dataDir: string, schedule: string): string {
  return path.join(dataDir, 'schedules', schedule);
}

function runFile(dataDir: string, schedule: string, slot: Date): string {
  // ISO with ':' made safe for every file system; the names sort by time.
  return path.join(scheduleRunsDir(dataDir, schedule), `${slot.toISOString().replace(/:/g, '-')}.json`);
}

/** `resumed`: the same job taking up its own claim again, after a crash. */
export type Claim = { taken: true; run: ScheduleRun; resumed: boolean } | { taken: false; existing: ScheduleRun };

export async function claimSlot(dataDir: string, run: Omit<ScheduleRun, 'state'>): Promise<Claim> {
  const file = runFile(dataDir, run.schedule, new Date(run.slot));
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const claimed: ScheduleRun = { ...run, state: 'running' };
  try {
    const handle = await open(file, 'wx', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(claimed)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return { taken: true, run: claimed, resumed: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const existing = await readRun(file);
  // The same job again (BullMQ retrying it after a crash) takes up its own unfinished claim.
  if (existing.jobId === run.jobId && existing.state === 'running') return { taken: true, run: existing, resumed: true };
  return { taken: false, existing };
}

export async function saveRun(dataDir: string, run: ScheduleRun): Promise<void> {
  await writeFileAtomic(runFile(dataDir, run.schedule, new Date(run.slot)), `${JSON.stringify(run)}\n`);
}

async function readRun(file: string): Promise<ScheduleRun> {
  return JSON.parse(await readFile(file, 'utf8')) as ScheduleRun;
}

/** The schedule's runs, latest slot first. */
export async function listRuns(dataDir: string, schedule: string): Promise<ScheduleRun[]> {
  const dir = scheduleRunsDir(dataDir, schedule);
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? [] : Promise.reject(err)));
  const runs = await Promise.all(names.filter((n) => n.endsWith('.json')).sort().reverse().map((n) => readRun(path.join(dir, n))));
  return runs;
}
