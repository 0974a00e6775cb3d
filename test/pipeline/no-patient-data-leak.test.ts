import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createBatch } from '../../src/pipeline/batch.js';
import { smspProvider } from '../../src/pipeline/provider.js';
import { openQueues, submitBatch, type PipelineQueues } from '../../src/pipeline/queues.js';
import { BatchWatcher } from '../../src/pipeline/watch-batch.js';
import { writeCohort } from '../../src/simulator/cohort.js';
import { connectTestRedis, deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { smspClientEnv, startTestSimulator, type TestSimulator } from '../support/simulator.js';
import { batchOptions, readCsv, tempDir } from '../support/pipeline.js';
import { startWorkerProcess, type CliProcess } from '../support/worker-process.js';
import { provisionServiceAccount } from '../support/accounts.js';

/**
 * Property 6 of the architecture: no patient data in logs, job data or error messages. A cohort is
 * traced by worker processes logging at debug level, with faults so that errors are logged too;
 * then every log line and every value in Redis under the run's prefix is searched for every
 * identifying value of every input row.
 */
describe('no patient data leaves the batch folder', () => {
  let simulator: TestSimulator;
  let redis: Redis;
  let prefix: string;
  let queues: PipelineQueues;
  let dir: string;
  const workers: CliProcess[] = [];

  beforeAll(async () => {
    dir = await tempDir('leak');
    simulator = await startTestSimulator({ seed: 'leak', size: 5000, certDir: `${dir}/certs`, faults: 'fault2200=0.05,busy=0.02,reset=0.02', faultSeed: 'leak' });
    redis = connectTestRedis();
    prefix = uniquePrefix('leak');
    queues = openQueues(redis, prefix);
  });
  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await queues?.close();
    await deleteKeys(redis, prefix);
    redis?.disconnect();
    await simulator?.close();
  });

  it('puts no NHS number, name, date of birth, postcode or address of any row in logs or Redis', async () => {
    const env = {
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: prefix,
      ...smspClientEnv(simulator, `${dir}/data`),
      SMSP_MAX_IN_FLIGHT: '8',
      SMSP_MAX_RATE: '1000',
      SMSP_RETRY_BASE_MS: '5',
      LOG_LEVEL: 'debug',
      ...(await provisionServiceAccount(`${dir}/data`)),
    };
    workers.push(await startWorkerProcess(env), await startWorkerProcess(env));
    const cohort = await writeCohort({ seed: 'leak', size: 5000, rows: 800, outDir: dir, name: 'cohort' });
    const batch = await createBatch(`${dir}/data`, cohort.csvPath, batchOptions(`${dir}/out`), smspProvider(simulator.url));
    await submitBatch(queues, batch);
    const meta = await new BatchWatcher(`${dir}/data`, batch.id).waitUntilFinished();
    expect(meta.state).toBe('assembled');
    const results = readCsv(meta.outputs!.results);
    expect(results.some((r) => r.trace_status === 'error')).toBe(true); // errors were logged too

    // Everything that identifies a person, from the input and from what PDS returned.
    const secrets = new Set<string>();
    for (const row of [...readCsv(cohort.csvPath), ...results]) {
      for (const key of ['nhs_number', 'family_name', 'date_of_birth', 'postcode', 'address_line_1', 'trace_nhs_number', 'trace_family_name', 'trace_postcode', 'trace_address']) {
        const value = row[key]?.trim();
        if (value && value.length >= 5) secrets.add(value);
      }
    }
    expect(secrets.size).toBeGreaterThan(1000);

    let redisText = '';
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const type = await redis.type(key);
        if (type === 'hash') redisText += JSON.stringify(await redis.hgetall(key));
        else if (type === 'string') redisText += await redis.get(key);
        else if (type === 'list') redisText += (await redis.lrange(key, 0, -1)).join('\n');
        else if (type === 'zset') redisText += (await redis.zrange(key, '0', '-1')).join('\n');
        else if (type === 'stream') redisText += JSON.stringify(await redis.xrange(key, '-', '+'));
      }
    } while (cursor !== '0');
    const logs = workers.map((w) => w.output()).join('\n');
    expect(logs.length).toBeGreaterThan(0);
    expect(redisText).toContain(batch.id); // we did read the jobs

    const leaks = [...secrets].filter((s) => logs.includes(s) || redisText.includes(s));
    expect(leaks).toEqual([]);
  }, 120_000);
});
