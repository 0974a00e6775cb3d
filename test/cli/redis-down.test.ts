import { access } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/errors.js';
import { tempDir } from '../support/pipeline.js';
import { runCli } from '../support/worker-process.js';
import { freePort } from '../support/ports.js';

describe('with Redis not answering at REDIS_URL', () => {
  it.each([
    ['trace', ['trace', 'samples/cohort-small.csv', '--out', 'OUT']],
    ['worker', ['worker']],
  ])('%s ends at once with exit 3 naming REDIS_URL, creates no batch, and prints no ioredis error flood', async (_name, args) => {
    const dir = await tempDir('redis-down');
    const env = { PDS_TRACE_DATA_DIR: `${dir}/data`, REDIS_URL: `redis://127.0.0.1:${await freePort()}` };
    const run = runCli(args.map((a) => (a === 'OUT' ? `${dir}/out` : a)), env);
    expect(await run.exited, run.output()).toBe(EXIT.config);
    expect(run.output()).toMatch(/Redis does not answer at REDIS_URL redis:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\): check REDIS_URL/);
    expect(run.output()).not.toContain('Unhandled error event');
    expect(run.output()).not.toMatch(/\n\s+at /);
    await expect(access(`${dir}/data/batches`)).rejects.toThrow();
  }, 30_000);
});
