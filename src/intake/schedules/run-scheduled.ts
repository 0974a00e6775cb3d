import { lstat, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { CronExpressionParser } from 'cron-parser';
import { AccountRefusedError } from '../account-submitter.js';
import { DuplicateInputError } from '../duplicate-check.js';
import { isIgnoredName } from '../partial-files.js';
import type { BatchRunner } from '../runners.js';
import { submit, type IntakeSettings } from '../submit.js';
import type { Submitter } from '../submitter.js';
import { traceOptionsFrom } from '../trace-option-fields.js';
import { claimSlot, listRuns, saveRun, type ScheduleRun } from './schedule-runs.js';
import { loadSchedules, ScheduleFileError, type Schedule } from './schedule-file.js';

/**
 * One scheduled run, as a worker takes it from BullMQ: claim the slot (once, ever), find the input,
 * submit it through the intake as the schedule's owner, in the bulk class, and record what came of
 * it. Every way it can fail is a recorded failed run with its reason, never silence.
 */

/** A run that starts this long after its slot is recorded as late (a night missed while no worker ran). */
export const LATE_AFTER_MS = 10 * 60 * 1000;

/**
 * Late: started once its schedule's following slot had come, or LATE_AFTER_MS after its own. The
 * first says "missed" for any pattern (a seconds pattern in a test, a nightly one in a ward); the
 * second catches a night's run hours late before the next night comes.
 */
export function startedLate(slot: Date, startedAt: Date, schedule: Pick<Schedule, 'cron' | 'timezone'> | undefined): boolean {
  if (startedAt.getTime() - slot.getTime() > LATE_AFTER_MS) return true;
  if (!schedule) return false;
  const following = CronExpressionParser.parse(schedule.cron, { tz: schedule.timezone, currentDate: slot }).next().toDate();
  return startedAt.getTime() >= following.getTime();
}

export class ScheduledRunError extends Error {
  override readonly name = 'ScheduledRunError';
}

export interface ScheduledRunDeps {
  dataDir: string;
  schedulesFile: string;
  intake: IntakeSettings;
  runner: BatchRunner;
  /** The schedule's owner as a submitter; throws AccountRefusedError when it may not submit. */
  submitterFor(owner: string): Promise<Submitter>;
  now?: () => Date;
}

/** The file to trace: `input` itself, or the newest complete file in the folder it names. */
export async function resolveInput(input: string): Promise<string> {
  const info = await stat(input).catch((err: NodeJS.ErrnoException) => {
    throw new ScheduledRunError(`input ${input} cannot be read (${err.code ?? err.message})`);
  });
  if (info.isFile()) return input;
  if (!info.isDirectory()) throw new ScheduledRunError(`input ${input} is neither a file nor a folder`);
  let newest: { file: string; mtimeMs: number } | undefined;
  for (const name of await readdir(input)) {
    if (isIgnoredName(name)) continue;
    const file = path.join(input, name);
    const entry = await lstat(file).catch(() => undefined);
    if (entry?.isFile() && (!newest || entry.mtimeMs > newest.mtimeMs)) newest = { file, mtimeMs: entry.mtimeMs };
  }
  if (!newest) throw new ScheduledRunError(`input folder ${input} holds no file to trace`);
  return newest.file;
}

/** Each run's outputs in a folder of its own, named by slot: never overwrites an earlier run's, sorts by time. */
export function runOutputFolder(schedule: Pick<Schedule, 'name' | 'out'>, slot: Date): string {
  return path.join(schedule.out, `${slot.toISOString().slice(0, 16).replace(/:/g, '')}Z-${schedule.name}`);
}

export async function runScheduledSlot(deps: ScheduledRunDeps, name: string, slot: Date, jobId: string): Promise<ScheduleRun> {
  const now = deps.now?.() ?? new Date();
  // Read before the claim, to tell a late run; a file that cannot be read is the run's recorded failure.
  const found = await loadSchedules(deps.schedulesFile).then(
    (all) => all.find((s) => s.name === name),
    (err: unknown) => (err instanceof ScheduleFileError ? err : Promise.reject(err)),
  );
  const schedule = found instanceof ScheduleFileError ? undefined : found;
  const claim = await claimSlot(deps.dataDir, {
    schedule: name,
    slot: slot.toISOString(),
    jobId,
    startedAt: now.toISOString(),
    late: startedLate(slot, now, schedule),
  });
  if (!claim.taken) return claim.existing;
  const run = claim.run;
  const failed = async (reason: string): Promise<ScheduleRun> => {
    const done: ScheduleRun = { ...run, state: 'failed', reason };
    await saveRun(deps.dataDir, done);
    return done;
  };
  try {
    if (found instanceof ScheduleFileError) throw found;
    if (!schedule) return await failed(`schedule "${name}" is no longer in ${deps.schedulesFile}: run \`pds-trace schedule sync\``);
    const file = await resolveInput(schedule.input);
    const submitter = await deps.submitterFor(schedule.owner);
    const submitted = await submit(
      deps.intake,
      { file, submitter, options: traceOptionsFrom(schedule.options, schedule.baseDir, runOutputFolder(schedule, slot)), wayIn: 'schedule' },
      deps.runner,
    );
    const done: ScheduleRun = { ...run, state: 'submitted', batchId: submitted.batch.id };
    await saveRun(deps.dataDir, done);
    return done;
  } catch (err) {
    if (err instanceof DuplicateInputError) {
      // This very job submitted it before a crash cut it short (BullMQ retried it): the batch is the
      // run's, unless a later slot's run made it meanwhile (the retry came after workers returned).
      if (claim.resumed && Date.parse(err.earlier.submittedAt) >= Date.parse(run.startedAt) && !(await batchOfAnotherRun(deps.dataDir, run, err.earlier.batchId))) {
        const done: ScheduleRun = { ...run, state: 'submitted', batchId: err.earlier.batchId };
        await saveRun(deps.dataDir, done);
        return done;
      }
      return failed(`the input is the same file as batch ${err.earlier.batchId}: the extract did not change since then`);
    }
    if (err instanceof ScheduledRunError || err instanceof ScheduleFileError || err instanceof AccountRefusedError) return failed(err.message);
    throw err;
  }
}

async function batchOfAnotherRun(dataDir: string, run: ScheduleRun, batchId: string): Promise<boolean> {
  return (await listRuns(dataDir, run.schedule)).some((other) => other.slot !== run.slot && other.batchId === batchId);
}
