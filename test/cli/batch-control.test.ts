import { readdir } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/password.js';
import { batchPaths, createBatch, loadBatch, saveBatch } from '../../src/pipeline/batch.js';
import { SIMULATOR_PROVIDER } from '../../src/pipeline/provider.js';
import { recordedUsers } from '../support/accounts.js';
import { batchOptions, openTestAudit, tempDir } from '../support/pipeline.js';
import { runCli } from '../support/worker-process.js';
import { FAST_SCRYPT, GOOD_PASSWORD } from '../auth/fixtures.js';

/** Who may resume, retry and cancel a batch, and what cancel, status and resume say, from the command line. */

/** The one JSON line a `--json` run prints among the sign-in lines. */
function jsonLine(output: string): Record<string, unknown> {
  return JSON.parse(output.split('\n').find((l) => l.startsWith('{'))!) as Record<string, unknown>;
}

describe('resume, retry and cancel: the submitter their own batch, an operator any', () => {
  let dir: string;
  let dataDir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await tempDir('batch-control');
    dataDir = `${dir}/data`;
    // Governance on (an SMSP_URL and users): every command signs in.
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
    await users.add({ id: 'olly', kind: 'person', roles: ['operator'], passwordHash });
  });

  const submittedBy = (user: string, name = 'batch') =>
    createBatch(dataDir, 'samples/cohort-small.csv', batchOptions(`${dir}/out-${name}`, { user, mappingFile: undefined, fallbacks: ['search_without_postcode'] }), SIMULATOR_PROVIDER);

  it('refuses a tracer another user’s batch (exit 6), audited, and leaves it as it was', async () => {
    const batch = await submittedBy('tess');
    for (const command of ['cancel', 'resume', 'retry']) {
      const run = runCli([command, batch.id, '--as', 'tom'], env);
      expect(await run.exited, run.output()).toBe(6);
      expect(run.output()).toContain(`tom may not use batch ${batch.id}: needs one of batch.manage.own, queue.operate`);
    }
    expect((await loadBatch(dataDir, batch.id)).state).toBe('created');
    const audit = await openTestAudit(dataDir);
    try {
      const refusals = await audit.search({ batchId: batch.id, kind: 'access_denied' });
      expect(refusals.map((e) => `${e.user} ${e.detail}`)).toEqual(['tom command=cancel', 'tom command=resume', 'tom command=retry']);
    } finally {
      await audit.close();
    }
  }, 60_000);

  it('lets a tracer cancel their own batch that is not running: recorded, audited, shown, and then never resumed or retried', async () => {
    const batch = await submittedBy('tess', 'own');
    const cancel = runCli(['cancel', batch.id, '--as', 'tess'], env);
    expect(await cancel.exited, cancel.output()).toBe(0);
    expect(cancel.output()).toContain(`batch ${batch.id} cancelled: 0 of ? rows were traced and are kept;`);
    expect(cancel.output()).toContain('no outputs will be written');
    expect(await loadBatch(dataDir, batch.id)).toMatchObject({ state: 'cancelled', cancelled: { by: 'tess', from: 'created' } });
    expect(await readdir(`${dir}/out-own`).catch(() => [] as string[])).toEqual([]);

    const audit = await openTestAudit(dataDir);
    try {
      expect(await audit.search({ batchId: batch.id, kind: 'batch_cancelled' })).toEqual([expect.objectContaining({ user: 'tess', role: 'tracer', outcome: 'cancelled', detail: 'from=created rows_done=0' })]);
    } finally {
      await audit.close();
    }

    const status = runCli(['status', batch.id, '--as', 'tess'], env);
    expect(await status.exited, status.output()).toBe(0);
    expect(status.output()).toMatch(new RegExp(`Batch ${batch.id}: CANCELLED  \\*\\*\\* SIMULATED: synthetic answers, not PDS \\*\\*\\*`));
    expect(status.output()).toMatch(/state\s+cancelled by tess on \d{1,2} \w{3} \d{4} \d\d:\d\d \S+ \(it was created\)/);
    expect(status.output()).toMatch(/outputs\s+none: a cancelled batch is never assembled/);

    for (const [command, action] of [['resume', 'resumed'], ['retry', 'retried']] as const) {
      const run = runCli([command, batch.id, '--as', 'tess'], env);
      expect(await run.exited, run.output()).toBe(2);
      expect(run.output()).toMatch(new RegExp(`batch ${batch.id} was cancelled by tess at \\S+: it cannot be ${action}; submit the file again`));
    }
    const again = runCli(['cancel', batch.id, '--as', 'tess'], env);
    expect(await again.exited, again.output()).toBe(0);
    expect(again.output()).toContain(`batch ${batch.id} was already cancelled by tess`);
  }, 60_000);

  it('lets an operator cancel anyone’s batch, and a tracer resume their own', async () => {
    const toms = await submittedBy('tom', 'toms');
    const cancel = runCli(['cancel', toms.id, '--as', 'olly'], env);
    expect(await cancel.exited, cancel.output()).toBe(0);
    expect(await loadBatch(dataDir, toms.id)).toMatchObject({ state: 'cancelled', cancelled: { by: 'olly' } });

    const finished = await submittedBy('tess', 'finished');
    await saveBatch(batchPaths(dataDir, finished.id), { ...finished, state: 'assembled', finishedAt: new Date().toISOString() });
    const resume = runCli(['resume', finished.id, '--as', 'tess'], env);
    expect(await resume.exited, resume.output()).toBe(0);
    expect(resume.output()).toContain(`batch ${finished.id} is already assembled: nothing to resume`);
    const late = runCli(['cancel', finished.id, '--as', 'tess'], env);
    expect(await late.exited, late.output()).toBe(2);
    expect(late.output()).toContain(`batch ${finished.id} is already assembled: nothing to cancel`);
  }, 60_000);

  it('status --json gives the batch in full: who, when, file, options, provider, state, counts, what is left', async () => {
    const batch = await submittedBy('tess', 'json');
    const status = runCli(['status', batch.id, '--json', '--as', 'tess'], env);
    expect(await status.exited, status.output()).toBe(0);
    const report = jsonLine(status.output());
    expect(report).toMatchObject({
      id: batch.id,
      state: 'created',
      submitted: { by: 'tess', at: batch.createdAt, local: expect.stringMatching(/^\d{1,2} \w{3} \d{4} \d\d:\d\d \S+$/) },
      file: { name: 'cohort-small.csv', path: expect.stringMatching(/samples\/cohort-small\.csv$/), sha256: batch.inputSha256 },
      options: { format: 'native', minimal: false, fallbacks: ['search_without_postcode'], mapping: null, chunkSize: 100 },
      provider: { description: 'built-in simulator', simulated: true },
      rows: { total: null, done: 0, byStatus: {} },
      outputs: [],
      waiting: expect.arrayContaining(['its file has not been read yet (ingest)', expect.stringMatching(/^no queue \(REDIS_URL is not set\).*pds-trace resume/)]),
    });
  }, 30_000);
});

describe('resume, when it cannot follow the batch', () => {
  it('refuses --no-wait without the queue, and ends within seconds naming REDIS_URL when Redis does not answer', async () => {
    const dir = await tempDir('resume-no-redis');
    const batch = await createBatch(`${dir}/data`, 'samples/cohort-small.csv', batchOptions(`${dir}/out`), SIMULATOR_PROVIDER);
    const noWait = runCli(['resume', batch.id, '--no-wait'], { PDS_TRACE_DATA_DIR: `${dir}/data` });
    expect(await noWait.exited, noWait.output()).toBe(2);
    expect(noWait.output()).toContain('--no-wait needs the queue (REDIS_URL)');

    const down = runCli(['resume', batch.id], { PDS_TRACE_DATA_DIR: `${dir}/data`, REDIS_URL: 'redis://127.0.0.1:1' });
    expect(await down.exited, down.output()).toBe(3);
    expect(down.output()).toMatch(/Redis does not answer at REDIS_URL redis:\/\/127\.0\.0\.1:1/);
    expect(down.output()).not.toMatch(/\n\s+at /);
  }, 60_000);
});
