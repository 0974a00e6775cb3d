import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { listBatchIds, loadBatch } from '../../src/pipeline/batch.js';
import { readCsv, tempDir } from '../support/pipeline.js';
import { connectTestRedis, deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { runCli, type CliProcess } from '../support/worker-process.js';

const list = (dir: string) => readdir(dir).then((names) => names.filter((n) => !n.startsWith('.')).sort());

async function startWatch(args: string[], env: Record<string, string>): Promise<CliProcess> {
  const watch = runCli(['watch', ...args], env);
  const deadline = Date.now() + 30_000;
  while (!watch.output().includes('pds-trace watching')) {
    if (watch.child.exitCode !== null) throw new Error(`watch exited early:\n${watch.output()}`);
    if (Date.now() > deadline) throw new Error(`watch did not start:\n${watch.output()}`);
    await sleep(100);
  }
  return watch;
}

describe('pds-trace watch, as an administrator runs it', () => {
  const running: CliProcess[] = [];
  afterEach(async () => {
    for (const p of running.splice(0)) {
      p.child.kill('SIGTERM');
      await p.exited;
    }
  });

  it('stops at start with exit 3 naming pds-trace.json and the bad key, claiming nothing', async () => {
    const dir = await tempDir('watch-bad-settings');
    await mkdir(`${dir}/folder/inbox`, { recursive: true });
    await writeFile(`${dir}/folder/pds-trace.json`, JSON.stringify({ fallbacks: ['guess'] }));
    await writeFile(`${dir}/folder/inbox/a.csv`, 'x\n');
    const run = runCli(['watch', `${dir}/folder`], { PDS_TRACE_DATA_DIR: `${dir}/data` });
    expect(await run.exited, run.output()).toBe(3);
    expect(run.output()).toContain(`${dir}/folder/pds-trace.json`);
    expect(run.output()).toMatch(/fallbacks\.0: /);
    expect(run.output()).not.toMatch(/\n\s+at /);
    expect(await readdir(`${dir}/folder/inbox`)).toEqual(['a.csv']);
  }, 30_000);

  it('two watcher processes on BullMQ and one folder trace each of 20 files dropped at once exactly once, then stop on SIGTERM', async () => {
    const dir = await tempDir('watch-pair');
    const sample = (await readFile('samples/cohort-small.csv', 'utf8')).trimEnd().split('\n');
    const [header, ...rows] = sample;
    const prefix = uniquePrefix('watch');
    const env = { PDS_TRACE_DATA_DIR: `${dir}/data`, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix, SMSP_MAX_RATE: '400' };
    try {
      for (let i = 0; i < 2; i++) running.push(await startWatch([`${dir}/folder`, '--stable', '500'], env));
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => writeFile(`${dir}/folder/inbox/drop-${String(i).padStart(2, '0')}.csv`, `${[header, ...rows.slice(i * 5, i * 5 + 5)].join('\n')}\n`)),
      );
      const deadline = Date.now() + 150_000;
      while ((await list(`${dir}/folder/done`)).length < 20 && Date.now() < deadline) await sleep(200);
      const done = await list(`${dir}/folder/done`);
      expect(done, running.map((p) => p.output()).join('\n')).toHaveLength(20);
      expect(await list(`${dir}/folder/failed`)).toEqual([]);
      expect(await list(`${dir}/folder/processing`)).toEqual([]);
      const batches = await listBatchIds(`${dir}/data`);
      expect(batches).toHaveLength(20);
      let rowsTraced = 0;
      for (const id of batches) {
        const meta = await loadBatch(`${dir}/data`, id);
        expect(meta.options.priority).toBe('bulk');
        rowsTraced += readCsv(meta.outputs!.results).length;
      }
      expect(rowsTraced).toBe(100);
      expect((await list(`${dir}/folder/outbox`)).filter((n) => n.endsWith('.results.csv'))).toHaveLength(20);
      for (const p of running.splice(0)) {
        p.child.kill('SIGTERM');
        expect(await p.exited, p.output()).toBe(0);
      }
    } finally {
      const redis = connectTestRedis();
      await deleteKeys(redis, prefix);
      redis.disconnect();
    }
  }, 200_000);
});
