import type { Command } from 'commander';
import { localTime } from '../domain/local-time.js';
import { loadSchedules, ScheduleFileError } from '../intake/schedules/schedule-file.js';
import { openScheduleQueue, runNow, scheduleStatuses, syncSchedules } from '../intake/schedules/schedule-queue.js';
import { CliError, EXIT } from './errors.js';
import { openRedisRuntime } from './redis-runtime.js';
import { signedInCommand, type CommandSession } from './session.js';

/**
 * `pds-trace schedule list | sync | run <name>`: the nightly schedules of PDS_TRACE_SCHEDULES, held
 * by Redis as BullMQ job schedulers and run by the workers (src/intake/schedules/).
 */

async function withSchedules<T>(session: CommandSession, use: (args: { file: string; queue: ReturnType<typeof openScheduleQueue>; schedules: Awaited<ReturnType<typeof loadSchedules>> }) => Promise<T>): Promise<T> {
  const { config } = session;
  if (!config.schedulesFile) throw new CliError('PDS_TRACE_SCHEDULES is not set: name the schedules file (README, "Nightly schedules")', EXIT.config);
  let schedules;
  try {
    schedules = await loadSchedules(config.schedulesFile);
  } catch (err) {
    if (err instanceof ScheduleFileError) throw new CliError(err.message, EXIT.config);
    throw err;
  }
  const runtime = await openRedisRuntime(config);
  const queue = openScheduleQueue(runtime.redis, config.redisPrefix);
  try {
    return await use({ file: config.schedulesFile, queue, schedules });
  } finally {
    await queue.close();
    await runtime.close();
  }
}


export function registerScheduleCommands(program: Command): void {
  const schedule = program.command('schedule').description('nightly schedules: list, sync from PDS_TRACE_SCHEDULES, run one now');

  signedInCommand(schedule.command('list').description('each schedule with its next run, last run and what came of it').option('--json', 'as JSON'), 'schedule list', async (session, flags: { json?: boolean }) => {
    await withSchedules(session, async ({ queue, schedules }) => {
      const statuses = await scheduleStatuses(queue, session.config.dataDir, schedules);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(statuses, null, 2)}\n`);
        return;
      }
      for (const s of statuses) {
        process.stdout.write(
          `${s.name}  (${s.cron}, ${s.timezone})\n` +
            `  next run:  ${s.next ? localTime(s.next, s.timezone) : 'not installed: run `pds-trace schedule sync`'}\n` +
            `  last run:  ${s.last ? `${localTime(s.last.slot, s.timezone)}${s.last.late ? ' (late)' : ''}` : '-'}\n` +
            `  outcome:   ${s.lastOutcome}\n`,
        );
      }
    });
  });

  signedInCommand(schedule.command('sync').description('install the file\'s schedules in Redis and remove those no longer in it'), 'schedule sync', async (session) => {
    await withSchedules(session, async ({ file, queue, schedules }) => {
      const report = await syncSchedules(queue, schedules);
      await session.record([{ kind: 'config_changed', outcome: 'schedules_synced', detail: `installed=${report.installed.join(',') || '-'} removed=${report.removed.join(',') || '-'}` }]);
      process.stdout.write(`Installed ${report.installed.length} schedule(s) from ${file}${report.removed.length > 0 ? `; removed ${report.removed.join(', ')}` : ''}.\n`);
      for (const warning of report.warnings) process.stderr.write(`Warning: ${warning}\n`);
    });
  });

  signedInCommand(schedule.command('run').argument('<name>', 'the schedule to run').description('run one schedule now (the workers take it)'), 'schedule run', async (session, name: string) => {
    await withSchedules(session, async ({ queue, schedules }) => {
      if (!schedules.some((s) => s.name === name)) throw new CliError(`no schedule "${name}" in ${session.config.schedulesFile}`, EXIT.usage);
      const job = await runNow(queue, name);
      await session.record([{ kind: 'batch_submitted', outcome: 'schedule_run_requested', detail: `schedule=${name} job=${job.id}` }]);
      process.stdout.write(`Schedule ${name} queued to run now (job ${job.id}); \`pds-trace schedule list\` shows its outcome.\n`);
    });
  });
}
