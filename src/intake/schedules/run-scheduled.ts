import { lstat, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { AccountRefusedError } from '../account-submitter.js';
import { DuplicateInputError } from '../duplicate-check.js';
import { isIgnoredName } from '../partial-files.js';
import type { BatchRunner } from '../runners.js';
import { submit, type IntakeSettings } from '../submit.js';
import type { Submitter } from '../submitter.js';
import { traceOptionsFrom } from '../trace-option-fields.js';
import { claimSlot, saveRun, type ScheduleRun } from './schedule-runs.js';
import { loadSchedules, ScheduleFileError, type Schedule } from './schedule-file.js';

/**
 * One scheduled run, as a worker takes it from BullMQ: claim the slot (once, ever), find the input,
 * submit it through the intake as the schedule's owner, in the bulk class, and record what came of
 * it. Every way it can fail is a recorded failed run with its reason, never silence.
 */

/** A run that starts this long after its slot is recorded as late (a night missed while no worker ran). */
export const LATE_AFTER_MS = 10 * 60 * 1000;

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
  const claim = await claimSlot(deps.dataDir, {
    schedule: name,
    slot: slot.toISOString(),
    jobId,
    startedAt: now.toISOString(),
    late: now.getTime() - slot.getTime() > LATE_AFTER_MS,
  });
  if (!claim.taken) return claim.existing;
  const run = claim.run;
  const failed = async (reason: string): Promise<ScheduleRun> => {
    const done: ScheduleRun = { ...run, state: 'failed', reason };
    await saveRun(deps.dataDir, done);
    return done;
  };
  try {
    const schedule = (await loadSchedules(deps.schedulesFile)).find((s) => s.name === name);
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
      // This very job submitted it before a crash cut it short (BullMQ retried it): the batch is the run's.
      if (claim.resumed && Date.parse(err.earlier.submittedAt) >= Date.parse(run.startedAt)) {
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
