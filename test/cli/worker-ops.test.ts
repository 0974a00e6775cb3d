import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listRuns } from '../../src/intake/schedules/schedule-runs.js';
import { loadBatch } from '../../src/pipeline/batch.js';
import { provisionServiceAccount } from '../support/accounts.js';
import { tempDir } from '../support/pipeline.js';
import { connectTestRedis, deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { smspClientEnv, startTestSimulator, type TestSimulator } from '../support/simulator.js';
import { runCli, startWorkerProcess, type CliProcess } from '../support/worker-process.js';
import { freePort } from '../support/ports.js';

/**
 * A `pds-trace worker` as deployed: it runs the schedules of PDS_TRACE_SCHEDULES when due, through
 * the intake as the schedule's owner, and serves /metrics, /healthz and /readyz.
 */
describe('a worker with schedules and its operations endpoint', () => {
  let simulator: TestSimulator;
  let worker: CliProcess | undefined;
  const prefix = uniquePrefix('worker-ops');
  const redis = connectTestRedis();
  let dir: string;

  beforeAll(async () => {
    dir = await tempDir('worker-ops');
    simulator = await startTestSimulator({ certDir: `${dir}/certs` });
  });
  afterAll(async () => {
    worker?.child.kill('SIGKILL');
    await worker?.exited;
    await deleteKeys(redis, prefix);
    redis.disconnect();
    await simulator?.close();
  });

  it('syncs a seconds-level schedule, runs it through the intake into outputs, and reports it in metrics and list', async () => {
    const dataDir = `${dir}/data`;
    const account = await provisionServiceAccount(dataDir);
    await mkdir(`${dir}/extracts`, { recursive: true });
    const sample = (await readFile('samples/cohort-small.csv', 'utf8')).split('\n').slice(0, 11).join('\n');
    await writeFile(`${dir}/extracts/pas.csv`, `${sample}\n`);
    await writeFile(
      `${dir}/schedules.json`,
      JSON.stringify({ schedules: [{ name: 'every-few-seconds', cron: '*/3 * * * * *', input: 'extracts', out: 'results', owner: account.PDS_TRACE_SERVICE_ACCOUNT }] }),
    );
    const port = await freePort();
    const env = {
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: prefix,
      ...smspClientEnv(simulator, dataDir),
      ...account,
      PDS_TRACE_SCHEDULES: `${dir}/schedules.json`,
      PDS_TRACE_METRICS_PORT: String(port),
    };
    const sync = runCli(['schedule', 'sync'], env);
    expect(await sync.exited, sync.output()).toBe(0);
    expect(sync.output()).toContain('Installed 1 schedule(s)');

    worker = await startWorkerProcess(env, 2);
    expect(worker.output()).toContain(`Metrics and health at http://127.0.0.1:${port}/metrics`);
    const deadline = Date.now() + 90_000;
    let batchId: string | undefined;
    for (;;) {
      const submitted = (await listRuns(dataDir, 'every-few-seconds')).find((r) => r.state === 'submitted');
      if (submitted?.batchId && (await loadBatch(dataDir, submitted.batchId)).state === 'assembled') {
        batchId = submitted.batchId;
        break;
      }
      if (Date.now() > deadline) throw new Error(`no scheduled batch finished:\n${worker.output()}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const batch = await loadBatch(dataDir, batchId);
    expect(batch.options).toMatchObject({ user: account.PDS_TRACE_SERVICE_ACCOUNT, wayIn: 'schedule', priority: 'bulk' });
    const runFolders = await readdir(path.join(dir, 'results'));
    expect(runFolders.some((f) => f.endsWith('Z-every-few-seconds'))).toBe(true);

    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/pdstrace_rows_total\{status="[a-z_]+",way_in="schedule"\} \d+/);
    expect(metrics).toMatch(/pdstrace_smsp_requests_total\{interaction="[A-Za-z]+",code="[A-Z]+-\d+"\} \d+/);
    expect(metrics).toMatch(/pdstrace_batch_duration_seconds_count\{way_in="schedule"\} [1-9]/);
    expect(metrics).toContain('pdstrace_queue_jobs{queue="trace",state="waiting"}');
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true });

    const list = runCli(['schedule', 'list', '--json'], env);
    expect(await list.exited, list.output()).toBe(0);
    const statuses = JSON.parse(list.output().slice(list.output().indexOf('['))) as Array<{ name: string; next?: string; lastOutcome: string }>;
    expect(statuses[0]).toMatchObject({ name: 'every-few-seconds', next: expect.any(String) });
    // The same for a person: times in the schedule's zone, named (this once threw on Node 20 for any schedule with a run).
    const text = runCli(['schedule', 'list'], env);
    expect(await text.exited, text.output()).toBe(0);
    expect(text.output()).toMatch(/next run: {2}\d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2} (GMT|BST)\n/);
    expect(text.output()).toMatch(/last run: {2}\d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2} (GMT|BST)/);
  }, 180_000);
});
