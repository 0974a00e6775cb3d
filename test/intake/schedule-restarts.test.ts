import { mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listRuns, type ScheduleRun } from '../../src/intake/schedules/schedule-runs.js';
import { listBatchIds, loadBatch } from '../../src/pipeline/batch.js';
import { provisionServiceAccount } from '../support/accounts.js';
import { readCsv, tempDir } from '../support/pipeline.js';
import { connectTestRedis, deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { smspClientEnv, startTestSimulator, type TestSimulator } from '../support/simulator.js';
import { runCli, startWorkerProcess, type CliProcess } from '../support/worker-process.js';

/**
 * Schedules across restarts, with real `pds-trace worker` processes and `pds-trace schedule sync` on
 * real Redis and a seconds-level pattern (issue 16): two workers never trace one slot twice; the
 * workers killed and started again, and the schedules synced again, make no duplicate run; the
 * slot that fell due while no worker ran is run once when they return, recorded as late, and the
 * slots missed after it do not pile up; a missing input is a failed run in `schedule list`.
 */

const EVERY_MS = 3000;
const CRON = '*/3 * * * * *';

describe('scheduled runs across worker and scheduler restarts', () => {
  let simulator: TestSimulator;
  const prefix = uniquePrefix('schedule-restarts');
  const redis = connectTestRedis();
  let dir: string;
  const running: CliProcess[] = [];
  const logs = () => running.map((p) => p.output()).join('\n---\n');

  beforeAll(async () => {
    dir = await tempDir('schedule-restarts');
    simulator = await startTestSimulator({ certDir: `${dir}/certs` });
  });
  afterAll(async () => {
    for (const p of running) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(running.map((p) => p.exited));
    await deleteKeys(redis, prefix);
    redis.disconnect();
    await simulator?.close();
  });

  async function waitForRuns(dataDir: string, what: string, done: (runs: ScheduleRun[]) => boolean, timeoutMs = 90_000): Promise<ScheduleRun[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const runs = (await listRuns(dataDir, 'nightly')).reverse();
      if (done(runs)) return runs;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(runs)}\n${logs()}`);
      await sleep(250);
    }
  }

  it('runs each slot once through kills, restarts and a second sync; the slot missed meanwhile runs once, late, and no more pile up', async () => {
    const dataDir = `${dir}/data`;
    const account = await provisionServiceAccount(dataDir);
    await mkdir(`${dir}/extracts`, { recursive: true });
    const sample = (await readFile('samples/cohort-small.csv', 'utf8')).trimEnd().split('\n');
    const extract = (first: number) => `${[sample[0], ...sample.slice(first, first + 8)].join('\n')}\n`;
    await writeFile(`${dir}/extracts/pas-monday.csv`, extract(1));
    await writeFile(
      `${dir}/schedules.json`,
      JSON.stringify({
        schedules: [
          { name: 'nightly', cron: CRON, input: 'extracts', out: 'results', owner: account.PDS_TRACE_SERVICE_ACCOUNT },
          { name: 'lost-extract', cron: '*/5 * * * * *', input: 'nowhere/extract.csv', out: 'results', owner: account.PDS_TRACE_SERVICE_ACCOUNT },
        ],
      }),
    );
    const env = { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix, ...smspClientEnv(simulator, dataDir), ...account, PDS_TRACE_SCHEDULES: `${dir}/schedules.json` };
    const sync = async () => {
      const run = runCli(['schedule', 'sync'], env);
      expect(await run.exited, run.output()).toBe(0);
    };
    const startWorkers = async () => {
      for (let i = 0; i < 2; i++) running.push(await startWorkerProcess(env, 2));
    };

    await startWorkers();
    await sync();
    // Two workers on the one queue: a few slots, each run by one of them. Killed (SIGKILL) just
    // after a run, so the kill lands between runs, with the next slot's job waiting in Redis.
    const finishedRuns = async () => (await listRuns(dataDir, 'nightly')).filter((r) => r.state !== 'running').length;
    await waitForRuns(dataDir, 'two finished runs', (runs) => runs.filter((r) => r.state !== 'running').length >= 2);
    const seen = await finishedRuns();
    await waitForRuns(dataDir, 'one more run', (runs) => runs.filter((r) => r.state !== 'running').length > seen);
    for (const worker of running) worker.child.kill('SIGKILL');
    await Promise.all(running.map((p) => p.exited));
    const gone = Date.now();
    const beforeKill = await listRuns(dataDir, 'nightly');

    // No worker for three slots and more; meanwhile the next night's extract arrives.
    await sleep(4 * EVERY_MS);
    await writeFile(`${dir}/extracts/pas-tuesday.csv`, extract(9));
    const later = new Date(Date.now() + 1000);
    await utimes(`${dir}/extracts/pas-tuesday.csv`, later, later);
    // The scheduler started again before the workers (as a deployment's start-up may): the slot
    // that fell due is kept, not replaced by the next one from now.
    await sync();
    const back = Date.now();
    await startWorkers();
    const runs = await waitForRuns(dataDir, 'the missed run and three after it', (all) => {
      const lateIndex = all.findIndex((r) => Date.parse(r.slot) > gone - EVERY_MS && Date.parse(r.slot) < back);
      return lateIndex >= 0 && all.slice(lateIndex + 1).filter((r) => r.state !== 'running').length >= 3;
    });
    // The scheduler synced again while workers run: still one run a slot.
    await sync();
    const atSecondSync = Date.now();
    const final = await waitForRuns(dataDir, 'two runs after the second sync', (all) => all.filter((r) => Date.parse(r.slot) > atSecondSync && r.state !== 'running').length >= 2);
    for (const worker of running) if (worker.child.exitCode === null) worker.child.kill('SIGTERM');

    // One record per slot (slots are its file names), each made by its own job.
    expect(new Set(final.map((r) => r.jobId)).size).toBe(final.length);
    // The slots that fell due while no worker ran: the first is run once, on return, late; the rest never.
    const missed = final.filter((r) => Date.parse(r.slot) > Math.max(...beforeKill.map((b) => Date.parse(b.slot))) && Date.parse(r.slot) < back);
    expect(missed, JSON.stringify(final)).toHaveLength(1);
    expect(missed[0]).toMatchObject({ late: true, state: 'submitted' });
    expect(Date.parse(missed[0]!.startedAt)).toBeGreaterThanOrEqual(back);
    expect(runs.filter((r) => Date.parse(r.slot) > gone && Date.parse(r.slot) < back)).toEqual([expect.objectContaining({ slot: missed[0]!.slot })]);

    // Each extract traced once, by the first run to find it; every other run failed naming that batch.
    const submitted = final.filter((r) => r.state === 'submitted');
    expect(submitted).toHaveLength(2);
    const batches = await listBatchIds(dataDir);
    expect(batches.sort()).toEqual(submitted.map((r) => r.batchId!).sort());
    const tuesday = await loadBatch(dataDir, missed[0]!.batchId!);
    expect(path.basename(tuesday.inputPath)).toBe('pas-tuesday.csv');
    for (const run of final.filter((r) => r.state === 'failed')) expect(run.reason).toMatch(/the same file as batch /);
    const deadline = Date.now() + 60_000;
    while ((await loadBatch(dataDir, tuesday.id)).state !== 'assembled' && Date.now() < deadline) await sleep(250);
    const assembled = await loadBatch(dataDir, tuesday.id);
    expect(assembled.state, logs()).toBe('assembled');
    expect(readCsv(assembled.outputs!.results)).toHaveLength(8);
    expect(await readdir(`${dir}/results`)).toContain(path.basename(path.dirname(assembled.outputs!.results)));

    // A missing input: a failed run with its reason, shown by `schedule list`.
    const list = runCli(['schedule', 'list', '--json'], env);
    expect(await list.exited, list.output()).toBe(0);
    const statuses = JSON.parse(list.output().slice(list.output().indexOf('['))) as Array<{ name: string; lastOutcome: string; last?: ScheduleRun }>;
    const lost = statuses.find((s) => s.name === 'lost-extract')!;
    expect(lost.last).toMatchObject({ state: 'failed' });
    expect(lost.lastOutcome).toMatch(/^failed: input .*nowhere\/extract\.csv cannot be read \(ENOENT\)/);
    await Promise.all(running.map((p) => p.exited));
  }, 300_000);
});
