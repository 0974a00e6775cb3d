import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBatch, type BatchMeta } from '../../src/pipeline/batch.js';
import { SIMULATOR_PROVIDER } from '../../src/pipeline/provider.js';
import { batchOptions, expectResultsMatchGroundTruth, tempDir } from '../support/pipeline.js';
import { connectTestRedis, deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { runCli } from '../support/worker-process.js';

/** `resume` that follows its batch to the end, `resume --no-wait`, and `status --follow`, on real Redis. */
describe('following a batch from the command line, in queue mode', () => {
  let dir: string;
  let prefix: string;
  let env: Record<string, string>;
  let batch: BatchMeta;

  beforeAll(async () => {
    dir = await tempDir('follow-batch');
    prefix = uniquePrefix('follow-batch');
    env = { PDS_TRACE_DATA_DIR: `${dir}/data`, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix, SMSP_MAX_RATE: '400' };
    batch = await createBatch(`${dir}/data`, 'samples/cohort-small.csv', batchOptions(`${dir}/out`), SIMULATOR_PROVIDER);
  });
  afterAll(async () => {
    const redis = connectTestRedis();
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('resume --no-wait queues and says how to follow; status --follow and resume then follow it to the end', async () => {
    const queued = runCli(['resume', batch.id, '--no-wait'], env);
    expect(await queued.exited, queued.output()).toBe(0);
    expect(queued.output()).toContain(`batch ${batch.id} is queued; follow it with \`pds-trace status ${batch.id} --follow\``);

    // No worker yet: the follower waits, then sees the batch through once `resume` works on it.
    const follower = runCli(['status', batch.id, '--follow'], env);
    const resume = runCli(['resume', batch.id], env);
    expect(await resume.exited, resume.output()).toBe(0);
    expect(resume.output()).toMatch(/200\/200 rows \(100%\)/);
    expect(resume.output()).toContain(`Batch ${batch.id}: ASSEMBLED`);
    expect(await follower.exited, follower.output()).toBe(0);
    expect(follower.output()).toMatch(/200\/200 rows \(100%\)/);
    expect(follower.output()).toContain(`Batch ${batch.id}: ASSEMBLED`);
    expect(follower.output()).toMatch(/Results\s+cohort-small\.SIMULATED\.results\.csv/);
    expectResultsMatchGroundTruth(`${dir}/out/cohort-small.SIMULATED.results.csv`, 'samples/cohort-small.expected.csv');
  }, 120_000);
});
