import { access, appendFile, readdir } from 'node:fs/promises';
import os from 'node:os';
import { beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/password.js';
import { UserStore } from '../../src/auth/users.js';
import { batchPaths, createBatch, loadBatch, saveBatch } from '../../src/pipeline/batch.js';
import { SIMULATOR_PROVIDER } from '../../src/pipeline/provider.js';
import { provisionServiceAccount, recordedUsers } from '../support/accounts.js';
import { batchOptions, openTestAudit, tempDir } from '../support/pipeline.js';
import { connectTestRedis, deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { runCli, startWorkerProcess } from '../support/worker-process.js';
import { FAST_SCRYPT, GOOD_PASSWORD } from '../auth/fixtures.js';

/** `pds-trace purge`, the retention sweep at the end of `trace`, and what status, retry and resume say after. */

const exists = (file: string) => access(file).then(() => true, () => false);
const REMOVED_ON = String.raw`work files were removed on \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC`;

async function traceSample(dir: string, env: Record<string, string>): Promise<string> {
  const run = runCli(['trace', 'samples/cohort-small.csv', '--out', `${dir}/out`], { PDS_TRACE_DATA_DIR: `${dir}/data`, SMSP_MAX_RATE: '400', ...env });
  expect(await run.exited, run.output()).toBe(0);
  return /Batch (b\S+)/.exec(run.output())![1]!;
}

async function workFilesOf(dataDir: string, id: string): Promise<string[]> {
  return (await readdir(batchPaths(dataDir, id).dir)).sort();
}

describe('work files from the command line (simulator mode)', () => {
  let dir: string;
  let env: Record<string, string>;
  let batchId: string;
  const user = os.userInfo().username.toLowerCase();

  beforeAll(async () => {
    dir = await tempDir('work-files-cli');
    env = { PDS_TRACE_DATA_DIR: `${dir}/data` };
    batchId = await traceSample(dir, {});
  }, 60_000);

  it('purge removes a finished batch’s work files at once, keeps batch.json and the outputs, and audits it', async () => {
    expect(await workFilesOf(`${dir}/data`, batchId)).toEqual(['batch.json', 'chunks', 'input.csv', 'local-id-repeats.jsonl', 'outputs-claim.json', 'rejected.jsonl', 'results']);
    const purge = runCli(['purge', batchId], env);
    expect(await purge.exited, purge.output()).toBe(0);
    expect(purge.output()).toMatch(new RegExp(`batch ${batchId}: work files removed \\S+ \\S+ UTC by ${user} \\(purge\\); batch.json and the outputs are kept`));
    expect(await workFilesOf(`${dir}/data`, batchId)).toEqual(['batch.json']);
    const meta = await loadBatch(`${dir}/data`, batchId);
    expect(meta.workFilesRemoved).toEqual({ at: expect.any(String), by: user });
    for (const output of Object.values(meta.outputs!)) expect(await exists(output), output).toBe(true);
    // The user's own file is never touched.
    expect(await exists('samples/cohort-small.csv')).toBe(true);

    const audit = await openTestAudit(`${dir}/data`);
    try {
      expect(await audit.search({ batchId, kind: 'work_files_removed' })).toEqual([expect.objectContaining({ user, outcome: 'purged' })]);
    } finally {
      await audit.close();
    }

    const again = runCli(['purge', batchId], env);
    expect(await again.exited, again.output()).toBe(0);
    expect(again.output()).toMatch(/work files already removed/);
  }, 30_000);

  it('status says what was removed and when, with the counts from the summary', async () => {
    const status = runCli(['status', batchId], env);
    expect(await status.exited, status.output()).toBe(0);
    expect(status.output()).toMatch(new RegExp(`Batch ${batchId}: ASSEMBLED`));
    expect(status.output()).toMatch(/rows\s+200 of 200 done: verified 81/);
    expect(status.output()).toMatch(new RegExp(`work files\\s+removed \\S+ \\S+ UTC by ${user} \\(purge\\)`));
  }, 30_000);

  it('retry and resume say plainly that the batch must be submitted again, exit 2', async () => {
    const retry = runCli(['retry', batchId], env);
    expect(await retry.exited, retry.output()).toBe(2);
    expect(retry.output()).toMatch(new RegExp(`batch ${batchId}'s ${REMOVED_ON} by ${user} \\(purge\\); it cannot be retried — submit the file again`));
    const resume = runCli(['resume', batchId], env);
    expect(await resume.exited, resume.output()).toBe(2);
    expect(resume.output()).toMatch(/it cannot be resumed — submit the file again/);
  }, 30_000);

  it('refuses to purge a batch that is not finished, exit 2', async () => {
    const running = await createBatch(`${dir}/data`, 'samples/cohort-small.csv', batchOptions(`${dir}/out-running`, { user }), SIMULATOR_PROVIDER);
    const purge = runCli(['purge', running.id], env);
    expect(await purge.exited, purge.output()).toBe(2);
    expect(purge.output()).toMatch(new RegExp(`batch ${running.id} is created, not finished: its work files are still needed`));
    expect(await workFilesOf(`${dir}/data`, running.id)).toContain('input.csv');
  }, 30_000);

  it('with PDS_TRACE_WORK_RETENTION_HOURS=0, trace removes the batch’s work files once it is finished, and audits it', async () => {
    const zero = await tempDir('work-files-zero');
    const id = await traceSample(zero, { PDS_TRACE_WORK_RETENTION_HOURS: '0' });
    expect(await workFilesOf(`${zero}/data`, id)).toEqual(['batch.json']);
    const meta = await loadBatch(`${zero}/data`, id);
    expect(meta.workFilesRemoved).toEqual({ at: expect.any(String), by: 'retention', retentionHours: 0 });
    expect(await exists(meta.outputs!.results)).toBe(true);
    const audit = await openTestAudit(`${zero}/data`);
    try {
      expect(await audit.search({ batchId: id, kind: 'work_files_removed' })).toEqual([expect.objectContaining({ outcome: 'retention', detail: 'retentionHours=0' })]);
    } finally {
      await audit.close();
    }
  }, 60_000);
});

describe('the worker’s retention sweep', () => {
  it('removes finished batches’ work files when it starts, and audits it before it stops', async () => {
    const dir = await tempDir('work-files-worker');
    const dataDir = `${dir}/data`;
    const created = await createBatch(dataDir, 'samples/cohort-small.csv', batchOptions(`${dir}/out`), SIMULATOR_PROVIDER);
    await saveBatch(batchPaths(dataDir, created.id), { ...created, state: 'assembled', finishedAt: new Date().toISOString() });
    const running = await createBatch(dataDir, 'samples/cohort-small.csv', batchOptions(`${dir}/out`), SIMULATOR_PROVIDER);
    const prefix = uniquePrefix('work-files');
    const worker = await startWorkerProcess({ PDS_TRACE_DATA_DIR: dataDir, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix, PDS_TRACE_WORK_RETENTION_HOURS: '0' }, 1);
    try {
      const deadline = Date.now() + 20_000;
      while (!(await loadBatch(dataDir, created.id)).workFilesRemoved && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect((await loadBatch(dataDir, created.id)).workFilesRemoved).toMatchObject({ by: 'retention', retentionHours: 0 });
      expect(await workFilesOf(dataDir, created.id)).toEqual(['batch.json']);
      expect(await workFilesOf(dataDir, running.id)).toContain('input.csv');
    } finally {
      worker.child.kill('SIGTERM');
      expect(await worker.exited, worker.output()).toBe(0);
      const redis = connectTestRedis();
      await deleteKeys(redis, prefix);
      redis.disconnect();
    }
    const audit = await openTestAudit(dataDir);
    try {
      expect(await audit.search({ batchId: created.id, kind: 'work_files_removed' })).toEqual([expect.objectContaining({ outcome: 'retention' })]);
    } finally {
      await audit.close();
    }
  }, 60_000);
});

describe('a batch whose input copy changed, from the command line', () => {
  it('retry stops before any request with the clear message, exit 4, leaving the outputs', async () => {
    const dir = await tempDir('work-files-changed');
    const id = await traceSample(dir, {});
    await appendFile(batchPaths(`${dir}/data`, id).input, 'L9999999,,Extra,Row,1990-01-01,1,,,\n');
    const retry = runCli(['retry', id], { PDS_TRACE_DATA_DIR: `${dir}/data` });
    expect(await retry.exited, retry.output()).toBe(4);
    expect(retry.output()).toContain(`pds-trace: batch ${id}: the batch's input copy changed since submission; nothing was written; submit the file again`);
    expect((await loadBatch(`${dir}/data`, id)).state).toBe('assembled');
    expect(await exists(`${dir}/out/cohort-small.SIMULATED.results.csv`)).toBe(true);
  }, 60_000);
});

describe('who may purge, once governance is on', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let batchId: string;

  beforeAll(async () => {
    const dir = await tempDir('work-files-purge-rule');
    dataDir = `${dir}/data`;
    env = {
      PDS_TRACE_DATA_DIR: dataDir,
      SMSP_URL: 'https://127.0.0.1:9/smsp/pds',
      SMSP_ASID: '999000000001',
      SMSP_TLS_CERT: 'x.pem',
      SMSP_TLS_KEY: 'y.pem',
      PDS_TRACE_PASSWORD: GOOD_PASSWORD,
    };
    const users = await recordedUsers(dataDir);
    const passwordHash = await hashPassword(GOOD_PASSWORD, FAST_SCRYPT);
    await users.add({ id: 'admin', kind: 'person', roles: ['admin'], passwordHash }, { firstOnly: true });
    for (const id of ['tess', 'tom']) await users.add({ id, kind: 'person', roles: ['tracer'], passwordHash });
    const created = await createBatch(dataDir, 'samples/cohort-small.csv', batchOptions(`${dir}/out`, { user: 'tess' }), SIMULATOR_PROVIDER);
    batchId = created.id;
    await saveBatch(batchPaths(dataDir, batchId), { ...created, state: 'assembled', finishedAt: new Date().toISOString() });
  });

  it('refuses a tracer another user’s batch, exit 6, and audits the refusal', async () => {
    const purge = runCli(['purge', batchId, '--as', 'tom'], env);
    expect(await purge.exited, purge.output()).toBe(6);
    expect(purge.output()).toContain(`tom may not use batch ${batchId}: needs batch.purge.any`);
    expect(await workFilesOf(dataDir, batchId)).toContain('input.csv');
    const audit = await openTestAudit(dataDir);
    try {
      expect(await audit.search({ batchId, kind: 'access_denied' })).toEqual([expect.objectContaining({ user: 'tom', detail: 'command=purge' })]);
    } finally {
      await audit.close();
    }
  }, 30_000);

  it('refuses a tracer the status of another user’s batch and audits it; refuses a path for a batch id before reading anything', async () => {
    const status = runCli(['status', batchId, '--as', 'tom'], env);
    expect(await status.exited, status.output()).toBe(6);
    const operator = await provisionServiceAccount(dataDir, ['operator']);
    const forged = runCli(['resume', '../../../x'], { ...env, ...operator });
    expect(await forged.exited, forged.output()).toBe(2);
    expect(forged.output()).toContain('"../../../x" is not a batch id');
    const audit = await openTestAudit(dataDir);
    try {
      expect(await audit.search({ batchId, kind: 'access_denied' })).toEqual(
        expect.arrayContaining([expect.objectContaining({ user: 'tom', detail: 'command=status' })]),
      );
    } finally {
      await audit.close();
    }
  }, 30_000);

  it('lets an operator purge any finished batch', async () => {
    const operator = await provisionServiceAccount(dataDir, ['operator']);
    const purge = runCli(['purge', batchId], { ...env, ...operator });
    expect(await purge.exited, purge.output()).toBe(0);
    expect((await loadBatch(dataDir, batchId)).workFilesRemoved?.by).toBe(operator.PDS_TRACE_SERVICE_ACCOUNT);
  }, 30_000);

  it('lets the submitter purge their own batch', async () => {
    const created = await createBatch(dataDir, 'samples/cohort-small.csv', batchOptions(`${dataDir}/../out2`, { user: 'tess' }), SIMULATOR_PROVIDER);
    await saveBatch(batchPaths(dataDir, created.id), { ...created, state: 'rejected' });
    const purge = runCli(['purge', created.id, '--as', 'tess'], env);
    expect(await purge.exited, purge.output()).toBe(0);
    expect(await workFilesOf(dataDir, created.id)).toEqual(['batch.json']);
  }, 30_000);
});
