import { describeRedisError, withOneShotRedis } from '../pipeline/redis-connection-errors.js';
import { loadSchedules, ScheduleFileError } from '../intake/schedules/schedule-file.js';
import { openScheduleQueue } from '../intake/schedules/schedule-queue.js';
import { fail, pass, skip, warn, type DoctorCheck } from './check.js';

/** Each schedule of PDS_TRACE_SCHEDULES has its next run pending in BullMQ, so tonight's run will happen. */
export const schedulesCheck: DoctorCheck = {
  name: 'schedules',
  title: 'Schedules',
  async run({ config }) {
    const file = config!.schedulesFile;
    if (!file) return skip('no PDS_TRACE_SCHEDULES: no nightly schedules');
    let schedules;
    try {
      schedules = await loadSchedules(file);
    } catch (err) {
      if (err instanceof ScheduleFileError) return fail(err.message, 'Correct the schedules file, then run `pds-trace schedule sync`.');
      throw err;
    }
    if (!config!.redisUrl) return fail(`${schedules.length} schedule(s) in ${file}, but no REDIS_URL: nothing will run them`, 'Set REDIS_URL: Redis holds the schedules and workers run them.');
    try {
      return await withOneShotRedis(config!.redisUrl, 5_000, async (redis) => {
        const queue = openScheduleQueue(redis, config!.redisPrefix);
        try {
          const installed = new Map((await queue.getJobSchedulers(0, -1)).map((j) => [j.key, j]));
          const missing = schedules.filter((s) => installed.get(s.name)?.next === undefined).map((s) => s.name);
          if (missing.length > 0) return fail(`not installed in Redis: ${missing.join(', ')}`, 'Run `pds-trace schedule sync` (after every change to the schedules file, and after Redis lost its data).');
          const extra = [...installed.keys()].filter((name) => !schedules.some((s) => s.name === name));
          if (extra.length > 0) return warn(`Redis also runs schedules no longer in the file: ${extra.join(', ')}`, 'Run `pds-trace schedule sync` to remove them.');
          const next = schedules.map((s) => `${s.name} at ${new Date(installed.get(s.name)!.next!).toISOString().slice(0, 16).replace('T', ' ')} UTC`).join(', ');
          return pass(`${schedules.length} schedule(s) pending: ${next}`);
        } finally {
          await queue.close();
        }
      });
    } catch (err) {
      return fail(`Redis does not answer (${describeRedisError(err as Error)})`, 'Start Redis or correct REDIS_URL (see the Redis check).');
    }
  },
};
