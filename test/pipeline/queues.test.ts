import { mkdir, writeFile } from 'node:fs/promises';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchPaths, type BatchMeta } from '../../src/pipeline/batch.js';
import { enqueueRemaining, openQueues, queueAssemblyIfDone, type PipelineQueues } from '../../src/pipeline/queues.js';
import { batchOptions, tempDir } from '../support/pipeline.js';
import { connectTestRedis, deleteKeys, uniquePrefix } from '../support/redis.js';

describe('jobs a batch still needs, judged from its folder', () => {
  let redis: Redis;
  let prefix: string;
  let queues: PipelineQueues;
  let dir: string;
  let meta: BatchMeta;

  beforeAll(async () => {
    redis = connectTestRedis();
    prefix = uniquePrefix('queues');
    queues = openQueues(redis, prefix);
    dir = await tempDir('queues');
    meta = {
      id: 'b-queues',
      createdAt: new Date().toISOString(),
      inputPath: '/dev/null',
      name: 'test',
      inputSha256: '0',
      options: batchOptions(dir),
      state: 'ingested',
      chunks: [0, 1, 2].map((index) => ({ index, firstRow: index + 1, lastRow: index + 1, rows: 1 })),
    };
    await mkdir(batchPaths(dir, meta.id).resultsDir, { recursive: true });
  });
  afterAll(async () => {
    await queues.close();
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  const finishChunk = (index: number) => writeFile(batchPaths(dir, meta.id).chunkResults(index), '{}\n');

  it('a finished trace job queues the assembly only once every chunk has results, and no trace job again', async () => {
    await finishChunk(0);
    expect(await queueAssemblyIfDone(queues, dir, meta)).toBe(false);
    await finishChunk(1);
    await finishChunk(2);
    expect(await queueAssemblyIfDone(queues, dir, meta)).toBe(true);
    expect(await queues.trace.count()).toBe(0);
    expect(await queues.assemble.count()).toBe(1);
    // Twice is harmless: the job id is the batch's.
    expect(await queueAssemblyIfDone(queues, dir, meta)).toBe(true);
    expect(await queues.assemble.count()).toBe(1);
  });

  it('resume queues a trace job for each chunk without results', async () => {
    const other: BatchMeta = { ...meta, id: 'b-queues-resume' };
    await mkdir(batchPaths(dir, other.id).resultsDir, { recursive: true });
    await writeFile(batchPaths(dir, other.id).chunkResults(1), '{}\n');
    expect(await enqueueRemaining(queues, dir, other)).toEqual({ trace: 2, assemble: false });
    expect(await queues.trace.count()).toBe(2);
  });
});
