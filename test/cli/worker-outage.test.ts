import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuiltCli, runBuiltCli, STACK_TRACE, waitFor } from '../support/built-cli.js';
import { tempDir } from '../support/pipeline.js';
import { PrivateRedis } from '../support/private-redis.js';

/**
 * A long-running worker whose Redis goes away: ioredis retries every connection (this process's
 * own, each queue's and each BullMQ worker's) several times a second, and each failure used to
 * print a stack or a JSON error line. The worker must ride it out saying so once, and once more
 * when Redis is back, and then go on working.
 */

let redis: PrivateRedis;

beforeAll(async () => {
  ensureBuiltCli();
  redis = await PrivateRedis.start();
}, 120_000);

afterAll(async () => redis?.kill());

describe('a worker through a Redis outage', () => {
  it('prints one line when Redis stops answering and one when it answers again, and no flood between', async () => {
    const dir = await tempDir('worker-outage');
    const worker = runBuiltCli(['worker', '--shutdown-timeout', '2000'], { PDS_TRACE_DATA_DIR: `${dir}/data`, REDIS_URL: redis.url, LOG_LEVEL: 'info' });
    try {
      await waitFor(worker.output, /pds-trace worker running/);
      await redis.kill();
      await waitFor(worker.output, /not answering/);
      // Long enough for many reconnect attempts on every connection (ioredis retries within 2 s).
      await new Promise((r) => setTimeout(r, 8_000));
      await redis.restart();
      await waitFor(worker.output, /answering again/);
      // Back at work: the worker still answers a stop like a running one.
      await new Promise((r) => setTimeout(r, 2_000));
      worker.child.kill('SIGINT');
      expect(await worker.exited, worker.output()).toBe(0);

      const output = worker.output();
      const escaped = redis.url.replace(/[.]/g, '\\.');
      expect(output.match(new RegExp(`Redis at REDIS_URL ${escaped}/? not answering \\(ECONNREFUSED\\); retrying until it answers`, 'g')), output).toHaveLength(1);
      expect(output.match(new RegExp(`Redis at REDIS_URL ${escaped}/? answering again \\(after \\d+s\\)`, 'g')), output).toHaveLength(1);
      expect(output).not.toMatch(STACK_TRACE);
      expect(output).not.toContain('worker error');
      expect(output.match(/ECONNREFUSED/g)).toHaveLength(1);
      expect(output).toContain('worker stopped');
    } finally {
      if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    }
  }, 120_000);

  it('stops on SIGTERM while Redis is away, a worker and a watcher alike, within seconds rather than never', async () => {
    const dir = await tempDir('stop-in-outage');
    const env = { PDS_TRACE_DATA_DIR: `${dir}/data`, REDIS_URL: redis.url, LOG_LEVEL: 'info' };
    await redis.restart();
    const worker = runBuiltCli(['worker', '--shutdown-timeout', '2000'], env);
    const watch = runBuiltCli(['watch', `${dir}/watched`], env);
    try {
      await waitFor(worker.output, /pds-trace worker running/);
      await waitFor(watch.output, /pds-trace watching/);
      await redis.kill();
      await waitFor(worker.output, /not answering/);
      await waitFor(watch.output, /not answering/);
      // BullMQ's own graceful close waits on Redis: this is where both used to hang until killed.
      const asked = Date.now();
      worker.child.kill('SIGTERM');
      watch.child.kill('SIGTERM');
      const ended = await Promise.race([Promise.all([worker.exited, watch.exited]), new Promise((r) => setTimeout(() => r('still running'), 20_000))]);
      expect(ended, `worker:\n${worker.output()}\nwatch:\n${watch.output()}`).toEqual([0, 0]);
      expect(Date.now() - asked).toBeLessThan(20_000);
      expect(worker.output()).toContain('worker stopped');
      expect(`${worker.output()}${watch.output()}`).not.toMatch(STACK_TRACE);
    } finally {
      for (const child of [worker.child, watch.child]) if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 120_000);
});
