import { readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditStore } from '../../src/audit/store.js';
import type { Principal } from '../../src/auth/authorise.js';
import { loadConfig } from '../../src/config.js';
import { DuplicateInputError } from '../../src/intake/duplicate-check.js';
import type { BatchRunner } from '../../src/intake/runners.js';
import { submit, type Submission, type TraceOptions } from '../../src/intake/submit.js';
import { batchPaths, listBatchIds, loadBatch, saveBatch, type BatchMeta, type BatchState } from '../../src/pipeline/batch.js';
import { BatchProgress } from '../../src/pipeline/progress.js';
import { SIMULATOR_PROVIDER } from '../../src/pipeline/provider.js';
import { openTestAudit, tempDir } from '../support/pipeline.js';
import { testSubmitter } from './submitter.js';

const HOUR = 3_600_000;
const TESS: Principal = { userId: 'tess', roles: ['tracer'], kind: 'person' };

/** Takes the batch and traces nothing: these tests are about what happens before any runner. */
const heldRunner: BatchRunner = {
  kind: 'embedded',
  start: async (batch) => ({ progress: new BatchProgress(), finished: Promise.resolve(batch) }),
  resume: async (batch) => ({ progress: new BatchProgress(), finished: Promise.resolve(batch) }),
};

describe('the intake refuses the same bytes again', () => {
  const audits: AuditStore[] = [];
  afterEach(async () => {
    for (const audit of audits.splice(0)) await audit.close();
  });

  async function setUp(name: string) {
    const dir = await tempDir(`intake-${name}`);
    const dataDir = `${dir}/data`;
    const file = path.join(dir, 'cohort.csv');
    await writeFile(file, 'nhs_number,family_name,given_name,date_of_birth,sex,postcode\n9000000009,SMITH,ANN,1970-01-01,F,LS1 4AP\n');
    const audit = await openTestAudit(dataDir);
    audits.push(audit);
    const options: TraceOptions = { format: 'native', minimal: false, fallbacks: [], outDir: `${dir}/out`, bom: false, dayFirst: true, chunkSize: 100 };
    const submission = (overrides: Partial<Submission> = {}): Submission => ({
      file,
      options,
      priority: 'interactive',
      submitter: testSubmitter(TESS, audit),
      ...overrides,
    });
    const submitAt = (at: Date, overrides: Partial<Submission> = {}, windowHours = 24) =>
      submit({ dataDir, provider: SIMULATOR_PROVIDER, duplicateWindowHours: windowHours, now: () => at }, submission(overrides), heldRunner);
    const setState = async (batch: BatchMeta, state: BatchState) => saveBatch(batchPaths(dataDir, batch.id), { ...(await loadBatch(dataDir, batch.id)), state });
    return { dir, dataDir, file, audit, submitAt, setState };
  }

  it('refuses a second submission while the first is in progress, naming the batch, its state and results, and audits the refusal', async () => {
    const { dataDir, audit, submitAt } = await setUp('in-progress');
    const first = await submitAt(new Date());
    const refusal = await submitAt(new Date()).catch((err: unknown) => err);
    expect(refusal).toBeInstanceOf(DuplicateInputError);
    const duplicate = refusal as DuplicateInputError;
    expect(duplicate.earlier).toMatchObject({ batchId: first.batch.id, state: 'created', submittedBy: 'tess' });
    expect(duplicate.message).toContain(`batch ${first.batch.id}`);
    expect(duplicate.message).toContain('still in progress');
    expect(duplicate.message).toContain(path.join(first.batch.options.outDir, 'cohort.SIMULATED.results.csv'));
    expect(await listBatchIds(dataDir)).toEqual([first.batch.id]);
    // Nothing of the refused copy is left behind in staging.
    expect(await readdir(`${dataDir}/staging`)).toEqual([]);
    const events = await audit.search({ kind: 'batch_submitted' });
    expect(events.map((e) => e.outcome)).toEqual(['submitted', 'refused_duplicate']);
    expect(events[1]!.detail).toContain(`duplicate_of=${first.batch.id}`);
  });

  it('refuses within the window after the first finished, and --again traces anyway, recording which batch it followed', async () => {
    const { submitAt, setState, audit } = await setUp('window');
    const t0 = Date.parse('2026-03-02T09:00:00Z');
    const first = await submitAt(new Date(t0));
    await setState(first.batch, 'assembled');
    await expect(submitAt(new Date(t0 + 23 * HOUR))).rejects.toThrow(/finished \(assembled\); its results are/);
    const again = await submitAt(new Date(t0 + 23 * HOUR), { again: true });
    expect(again.batch.id).not.toBe(first.batch.id);
    expect(again.overrode?.batchId).toBe(first.batch.id);
    const events = await audit.search({ batchId: again.batch.id, kind: 'batch_submitted' });
    expect(events[0]!.detail).toContain(`again_after=${first.batch.id}`);
  });

  it('accepts the same bytes once the window has passed after the earlier batch finished', async () => {
    const { submitAt, setState } = await setUp('outside');
    const t0 = Date.parse('2026-03-02T09:00:00Z');
    const first = await submitAt(new Date(t0));
    await setState(first.batch, 'assembled');
    const later = await submitAt(new Date(t0 + 25 * HOUR));
    expect(later.batch.inputSha256).toBe(first.batch.inputSha256);
  });

  it('counts a batch still in progress however old, and one finished within the window only with a window', async () => {
    const { submitAt, setState } = await setUp('old-in-progress');
    const t0 = Date.parse('2026-03-02T09:00:00Z');
    const first = await submitAt(new Date(t0));
    await setState(first.batch, 'ingested');
    await expect(submitAt(new Date(t0 + 400 * HOUR))).rejects.toBeInstanceOf(DuplicateInputError);
    await setState(first.batch, 'assembled');
    // Window 0: only batches in progress count.
    await expect(submitAt(new Date(t0 + HOUR), {}, 0)).resolves.toBeDefined();
  });

  it('does not count a batch whose file was rejected: it traced nothing', async () => {
    const { submitAt, setState } = await setUp('rejected');
    const first = await submitAt(new Date());
    await setState(first.batch, 'rejected');
    await expect(submitAt(new Date())).resolves.toBeDefined();
  });

  it('lets exactly one of two simultaneous submissions of the same bytes through', async () => {
    const { dataDir, submitAt } = await setUp('race');
    const outcomes = await Promise.allSettled([submitAt(new Date()), submitAt(new Date()), submitAt(new Date())]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(refused.map((o) => o.reason)).toEqual([expect.any(DuplicateInputError), expect.any(DuplicateInputError)]);
    expect(await listBatchIds(dataDir)).toHaveLength(1);
  });

  it('keeps its memory of hashes owner-only in the data folder, one file per input', async () => {
    const { dataDir, submitAt } = await setUp('memory');
    const first = await submitAt(new Date());
    const folder = `${dataDir}/intake/seen`;
    expect(await readdir(folder)).toEqual([`${first.batch.inputSha256}.json`]);
    expect((await stat(folder)).mode & 0o777).toBe(0o700);
    expect((await stat(`${folder}/${first.batch.inputSha256}.json`)).mode & 0o777).toBe(0o600);
  });
});

describe('PDS_TRACE_DUPLICATE_WINDOW_HOURS', () => {
  it('defaults to 24 hours, takes 0, and refuses a negative or fractional number naming the setting', () => {
    expect(loadConfig({}).duplicateWindowHours).toBe(24);
    expect(loadConfig({ PDS_TRACE_DUPLICATE_WINDOW_HOURS: '0' }).duplicateWindowHours).toBe(0);
    for (const bad of ['-1', '1.5', 'a day']) expect(() => loadConfig({ PDS_TRACE_DUPLICATE_WINDOW_HOURS: bad })).toThrow(/PDS_TRACE_DUPLICATE_WINDOW_HOURS/);
  });
});
