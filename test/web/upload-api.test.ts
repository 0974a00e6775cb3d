import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAuditStore } from '../../src/audit/store.js';
import { loadBatch } from '../../src/pipeline/batch.js';
import { writeCohort } from '../../src/simulator/cohort.js';
import { expectResultsMatchGroundTruth } from '../support/pipeline.js';
import { MISUSE_WARNING } from '../../src/cli/session.js';
import { serveTracing } from '../../src/cli/serve-command.js';
import { startWebServer } from '../../src/web/start.js';
import { dataFolderWithPeople, FAST_SCRYPT, webConfig } from './web-support.js';
import { apiUpload, batchIds, POPULATION, signIn, startUploadServer, uploadForm, uploadsLeft, waitForBatch, type Session, type UploadServer } from './upload-support.js';

/**
 * `POST /api/batches` against `serve` with the embedded runner (no REDIS_URL): the upload goes
 * through the intake and is traced in the server's process against the simulator.
 */
describe('POST /api/batches with the embedded runner', () => {
  let web: UploadServer;
  let tess: Session;
  let cohort: { csvPath: string; expectedPath: string };

  beforeAll(async () => {
    web = await startUploadServer({ PDS_TRACE_WEB_UPLOAD_MAX_MB: '1' });
    tess = await signIn(web.url, 'tess');
    cohort = await writeCohort({ ...POPULATION, rows: 60, outDir: path.join(web.dir, 'cohorts'), name: 'api-cohort' });
  }, 120_000);
  afterAll(async () => web?.close());

  it('answers 202 with the batch id, traces every row as the ground truth says, audits the submission as way_in=web, and keeps no upload', async () => {
    const response = await apiUpload(web.url, tess, uploadForm(readFileSync(cohort.csvPath), 'api-cohort.csv'));
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    expect(id).toMatch(/^b\d{8}T\d{6}Z-/);
    expect(response.headers.get('location')).toBe(`/api/batches/${id}`);

    const done = await waitForBatch(web.url, tess, id);
    expect(done).toMatchObject({ state: 'assembled', rows: 60, done: 60 });
    const meta = await loadBatch(web.dataDir, id);
    expect(meta.options).toMatchObject({ user: 'tess', wayIn: 'web', priority: 'interactive' });
    expectResultsMatchGroundTruth(meta.outputs!.results, cohort.expectedPath);
    // Results hold patient data: owner-only.
    expect((await stat(meta.outputs!.results)).mode & 0o077).toBe(0);

    const audit = await openAuditStore({ dataDir: web.dataDir });
    try {
      const submitted = await audit.search({ user: 'tess', kind: 'batch_submitted', batchId: id });
      expect(submitted).toHaveLength(1);
      expect(submitted[0]!.detail).toContain('way_in=web');
    } finally {
      await audit.close();
    }
    expect(await uploadsLeft(web.dataDir)).toEqual([]);
  }, 180_000);

  it('refuses the same bytes again while the earlier batch counts (409 duplicate_input, naming it), and makes nothing', async () => {
    const first = await apiUpload(web.url, tess, uploadForm(readFileSync(cohort.csvPath), 'again.csv'));
    // The first test traced these bytes already.
    expect(first.status).toBe(409);
    const body = (await first.json()) as { code: string; message: string; batchId: string };
    expect(body.code).toBe('duplicate_input');
    expect(body.message).toContain(body.batchId);
    expect(await batchIds(web.dataDir)).toHaveLength(1);
    expect(await uploadsLeft(web.dataDir)).toEqual([]);
    // Sent again on purpose (`again`): traced, the earlier batch named in the audit.
    const again = await apiUpload(web.url, tess, uploadForm(readFileSync(cohort.csvPath), 'again.csv', { again: 'true' }));
    expect(again.status).toBe(202);
    await waitForBatch(web.url, tess, ((await again.json()) as { id: string }).id);
  }, 120_000);

  const BAD_FILES: ReadonlyArray<{ name: string; file: () => Uint8Array | string; status: number; code: string; says: RegExp }> = [
    { name: 'an Excel workbook', file: () => Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(200, 7)]), status: 415, code: 'not_csv', says: /not a CSV file: it is an Excel workbook.*Save As/ },
    { name: 'a file over PDS_TRACE_WEB_UPLOAD_MAX_MB', file: () => 'nhs_number,date_of_birth\n' + '9000000009,1980-01-01\n'.repeat(60_000), status: 413, code: 'too_large', says: /up to 1 MB.*PDS_TRACE_WEB_UPLOAD_MAX_MB/ },
    { name: 'an empty file', file: () => '', status: 422, code: 'empty_file', says: /empty/ },
    { name: 'a header and no rows', file: () => 'nhs_number,date_of_birth\r\n', status: 422, code: 'empty_file', says: /no data rows/ },
    { name: 'binary data', file: () => Uint8Array.from({ length: 4000 }, (_, i) => (i * 37) % 32), status: 415, code: 'unreadable_encoding', says: /cannot be read as text/ },
    { name: 'columns that name no field to trace by', file: () => 'colour,size\r\nred,9\r\nblue,7\r\n', status: 422, code: 'no_usable_columns', says: /missing date of birth/ },
  ];

  for (const bad of BAD_FILES) {
    it(`refuses ${bad.name} with ${bad.status} ${bad.code}, saying what to do, and leaves nothing behind`, async () => {
      const before = await batchIds(web.dataDir);
      expect(before.length).toBeGreaterThan(0);
      const response = await apiUpload(web.url, tess, uploadForm(bad.file(), 'bad.csv'));
      expect(response.status).toBe(bad.status);
      const body = (await response.json()) as { code: string; message: string };
      expect(body.code).toBe(bad.code);
      expect(body.message).toMatch(bad.says);
      expect(await batchIds(web.dataDir)).toEqual(before);
      expect(await uploadsLeft(web.dataDir)).toEqual([]);
    });
  }

  it('refuses a request with no file (400 no_file) and one that is not multipart (415)', async () => {
    const form = new FormData();
    form.append('minimal', 'true');
    const none = await apiUpload(web.url, tess, form);
    expect(none.status).toBe(400);
    expect(((await none.json()) as { code: string }).code).toBe('no_file');
    const json = await fetch(new URL('/api/batches', web.url), { method: 'POST', headers: { cookie: tess.cookie, 'x-csrf-token': tess.csrfToken, 'content-type': 'application/json' }, body: '{}' });
    expect(json.status).toBe(415);
  });

  it('refuses an upload without the session\'s CSRF token (403 csrf_invalid) before reading it', async () => {
    const response = await apiUpload(web.url, tess, uploadForm('nhs_number,date_of_birth\n9434765919,1980-01-01\n', 'x.csv'), { csrf: false });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { code: string }).code).toBe('csrf_invalid');
    expect(await uploadsLeft(web.dataDir)).toEqual([]);
  });

  it('reads unusual columns with a mapping sent beside the file, and month-first dates when asked', async () => {
    const csv = 'Ref,Patient Identifier,Last,Given,Birth,Gender\r\nR1,9434765919,SMITH,ANN,04/03/1980,F\r\nR2,,JONES,BOB,12/31/1970,M\r\n';
    const mapping = 'localId = Ref\nnhsNumber = Patient Identifier\nfamilyName = Last\ngivenName = Given\ndateOfBirth = Birth\nsex = Gender\n';
    const response = await apiUpload(web.url, tess, uploadForm(csv, 'mapped.csv', { mapping, monthFirst: 'true', minimal: 'true' }));
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    const meta = await loadBatch(web.dataDir, id);
    expect(meta.options).toMatchObject({ dayFirst: false, minimal: true });
    // Multipart text fields carry CRLF line breaks (the form encoding's rule); the mapping reads either.
    expect(readFileSync(meta.options.mappingFile!, 'utf8').replace(/\r\n/g, '\n')).toBe(mapping);
    const done = await waitForBatch(web.url, tess, id);
    // 12/31/1970 reads only month first: no row is invalid.
    expect(done).toMatchObject({ state: 'assembled', rows: 2 });
    expect(done.byStatus.invalid_input).toBe(0);

    const badFormat = await apiUpload(web.url, tess, uploadForm(csv, 'mapped-again.csv', { format: 'xlsx' }));
    expect(badFormat.status).toBe(400);
    expect(await uploadsLeft(web.dataDir)).toEqual([]);
  }, 120_000);

  it('refuses roles without batch.submit (403) and callers with no session (401)', async () => {
    const auditor = await signIn(web.url, 'aud');
    const form = () => uploadForm('nhs_number,date_of_birth\n9434765919,1980-01-01\n', 'x.csv');
    expect((await apiUpload(web.url, auditor, form())).status).toBe(403);
    expect((await fetch(new URL('/api/batches', web.url), { method: 'POST', body: form() })).status).toBe(401);
  });
});

describe('POST /api/batches where serve has no SMSP provider configured', () => {
  it('answers 503 tracing_unavailable, saying what to set, and keeps nothing', async () => {
    const { dataDir } = await dataFolderWithPeople();
    const config = webConfig(dataDir, { PDS_TRACE_WEB_SIGN_IN_PER_MINUTE: '1000' });
    const server = await startWebServer({ config, host: '127.0.0.1', port: 0, trustProxy: false, misuseWarning: MISUSE_WARNING, passwordParams: FAST_SCRYPT, openTracing: serveTracing(config) });
    try {
      const tess = await signIn(server.url, 'tess');
      const response = await apiUpload(server.url, tess, uploadForm('nhs_number,date_of_birth\r\n9434765919,1980-01-02\r\n', 'x.csv'));
      expect(response.status).toBe(503);
      const body = (await response.json()) as { code: string; message: string };
      expect(body).toMatchObject({ code: 'tracing_unavailable' });
      expect(body.message).toContain('SMSP_URL');
      expect(await batchIds(dataDir)).toEqual([]);
      expect(await uploadsLeft(dataDir)).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
