import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { NewAuditEvent } from '../../src/audit/event.js';
import { withActor } from '../../src/pipeline/audit-sink.js';
import { assertBatchId, InvalidBatchIdError } from '../../src/pipeline/batch-id.js';
import { batchPaths, BatchRecordMismatchError, createBatch, listBatchIds, loadBatch, newBatchId, saveBatch } from '../../src/pipeline/batch.js';
import { SIMULATOR_PROVIDER } from '../../src/pipeline/provider.js';
import { batchOptions, tempDir } from '../support/pipeline.js';

describe('batch ids', () => {
  it('accept the ids batches are made with, and nothing shaped like a path', () => {
    expect(() => assertBatchId(newBatchId(new Date(), 'ab'.repeat(32)))).not.toThrow();
    for (const given of ['../../../x', 'b20261206T083000Z-1a2b3c4d-5e6f/../x', '/etc', '.', '', 'b20261206T083000Z-1A2B3C4D-5E6F']) {
      expect(() => assertBatchId(given), given).toThrow(InvalidBatchIdError);
    }
  });

  it('never make a path outside the batches folder, whoever supplies them (job data, routes)', () => {
    for (const id of ['../x', '..', 'a/b', 'a\\b', '.hidden', '']) expect(() => batchPaths('/data', id), id).toThrow(InvalidBatchIdError);
    expect(batchPaths('/data', 'b-test').dir).toBe(path.join('/data', 'batches', 'b-test'));
  });

  it('refuse a batch.json that names another batch than its folder (copied or forged)', async () => {
    const dir = await tempDir('batch-id');
    await writeFile(`${dir}/in.csv`, 'nhs_number,family_name,date_of_birth,sex\n9434765919,SYNTHETIC,1970-01-01,2\n');
    const real = await createBatch(`${dir}/data`, `${dir}/in.csv`, batchOptions(`${dir}/out`), SIMULATOR_PROVIDER);
    const forged = newBatchId(new Date(), 'cd'.repeat(32));
    await mkdir(batchPaths(`${dir}/data`, forged).dir, { recursive: true });
    await saveBatch(batchPaths(`${dir}/data`, forged), { ...real, options: { ...real.options, user: 'someone-else' } });
    await expect(loadBatch(`${dir}/data`, forged)).rejects.toThrow(BatchRecordMismatchError);
    expect((await loadBatch(`${dir}/data`, real.id)).id).toBe(real.id);
    // Only batch folders are listed: a stray file or folder there is no batch.
    await mkdir(`${dir}/data/batches/.trash`, { recursive: true });
    expect(await listBatchIds(`${dir}/data`)).toEqual([real.id, forged].sort());
  });
});

describe('withActor', () => {
  it('marks events recorded for another user with who ran them, and leaves the submitter\'s own alone', async () => {
    const appended: NewAuditEvent[] = [];
    const sink = withActor({ append: async (events) => void appended.push(...events) }, 'svc-worker');
    const base = { time: '2026-12-06T08:00:00.000Z', kind: 'smsp_exchange' as const, role: 'tracer' };
    await sink.append([
      { ...base, user: 'tess', detail: 'attempt=1' },
      { ...base, user: 'tess' },
      { ...base, user: 'svc-worker', detail: 'attempt=1' },
    ]);
    expect(appended.map((e) => e.detail)).toEqual(['attempt=1 actor=svc-worker', 'actor=svc-worker', 'attempt=1']);
    expect(appended.map((e) => e.user)).toEqual(['tess', 'tess', 'svc-worker']);
  });
});
