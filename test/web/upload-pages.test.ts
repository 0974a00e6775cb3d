import http from 'node:http';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBatch } from '../../src/pipeline/batch.js';
import { batchIds, signIn, startUploadServer, uploadForm, uploadsLeft, type Session, type UploadServer } from './upload-support.js';

/**
 * The upload pages against `serve` (embedded runner): the check before anything is sent, changing a
 * column, cancelling, tracing, bad input and cut-off uploads, CSRF, and what URLs carry.
 */

// Synthetic rows. Row numbers as a spreadsheet shows them: the header is row 1.
const CSV = [
  'local_id,nhs_number,family_name,given_name,date_of_birth,sex,postcode',
  'A1,9434765919,SMITH,ANN,1980-01-02,F,LS1 4AP', // row 2: fine
  'A2,1234567890,JONES,BOB,1970-05-06,M,LS1 4AP', // row 3: NHS number fails its check digit
  'A3,,,,1990-01-01,,', // row 4: no NHS number and no family name
  'A1,9000000009,BROWN,CAT,1985-07-08,F,LS2 9JT', // row 5: repeats A1's local id
  'A5,9434765870,GREEN,DAN,2001-02-03,M,LS6 1AA', // row 6: fine
].join('\r\n');
const PATIENT_VALUES = ['9434765919', '1234567890', '9000000009', '9434765870', 'SMITH', 'JONES', 'BROWN', 'GREEN', '1980-01-02', '19800102', 'LS1', 'LS2', 'LS6'];

describe('the upload pages', () => {
  let web: UploadServer;
  let tess: Session;
  /** Every URL the server sent a browser to, or put in a link or form. */
  const urls: string[] = [];

  beforeAll(async () => {
    web = await startUploadServer({ PDS_TRACE_WEB_UPLOAD_MAX_MB: '1' });
    tess = await signIn(web.url, 'tess');
  }, 120_000);
  afterAll(async () => web?.close());

  const send = async (session: Session, route: string, init: RequestInit = {}) => {
    const response = await fetch(new URL(route, web.url), { ...init, redirect: 'manual', headers: { cookie: session.cookie, ...(init.headers as Record<string, string>) } });
    const location = response.headers.get('location');
    if (location) urls.push(location);
    const body = await response.text();
    for (const match of body.matchAll(/(?:href|action)="([^"]+)"/g)) urls.push(match[1]!);
    return { status: response.status, location, body, type: response.headers.get('content-type') ?? '' };
  };
  /** As the page's form sends it: the CSRF token first, then the file. */
  const uploadPage = (session: Session, form: FormData, csrf = session.csrfToken) => {
    const withToken = new FormData();
    withToken.append('_csrf', csrf);
    for (const [name, value] of form.entries()) withToken.append(name, value);
    return send(session, '/upload', { method: 'POST', body: withToken });
  };
  const act = (session: Session, uploadId: string, fields: Record<string, string>) =>
    send(session, `/upload/${uploadId}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: session.csrfToken, ...fields }).toString() });
  const uploaded = async () => {
    const response = await uploadPage(tess, uploadForm(CSV, 'study cohort.csv'));
    expect(response.status).toBe(303);
    const id = /^\/upload\/([A-Za-z0-9_-]{22})$/.exec(response.location ?? '')?.[1];
    expect(id, response.location ?? response.body).toBeDefined();
    return id!;
  };

  it('shows the form with the columns and formats explained, and an Upload link for those who may submit', async () => {
    const page = await send(tess, '/upload');
    expect(page.status).toBe(200);
    expect(page.body).toContain('nhsuk-file-upload');
    expect(page.body).toContain('Columns and formats we understand');
    expect(page.body).toContain('<code>dateOfBirth</code>');
    expect(page.body).toContain('href="/upload"');
    const auditor = await signIn(web.url, 'aud');
    expect((await send(auditor, '/batches')).body).not.toContain('href="/upload"');
    expect((await send(auditor, '/upload')).status).toBe(403);
  });

  it('checks the file before anything is sent: counts, each problem by row and column, repeated local ids, requests and time', async () => {
    const id = await uploaded();
    expect(await batchIds(web.dataDir)).toEqual([]);
    const page = await send(tess, `/upload/${id}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('NHS Confidential');
    expect(page.body).toMatch(/data-testid="rows">5</);
    expect(page.body).toMatch(/data-testid="valid">3</);
    expect(page.body).toMatch(/data-testid="invalid">2</);
    expect(page.body).toMatch(/data-testid="requests">3</);
    expect(page.body).toContain('under a minute at the service&#39;s limit of 20 requests a second');
    expect(page.body).toMatch(/<td class="nhsuk-table__cell">3<\/td><td class="nhsuk-table__cell">nhs_number<\/td><td class="nhsuk-table__cell">NHS number \(column &quot;nhs_number&quot;\)/);
    expect(page.body).toMatch(/<td class="nhsuk-table__cell">4<\/td><td class="nhsuk-table__cell">family_name<\/td>/);
    expect(page.body).toContain('1 (rows 5)');
    expect(page.body).toContain('Trace 5 rows');
    // The column each field was taken from, changeable.
    expect(page.body).toMatch(/<option value="1" selected>Column 2: nhs_number<\/option>/);

    const problems = await send(tess, `/upload/${id}/problems.csv`);
    expect(problems.status).toBe(200);
    expect(problems.type).toContain('text/csv');
    const lines = problems.body.replace(/^\uFEFF/, '').trim().split('\r\n');
    expect(lines[0]).toBe('row,column,field,kind,reason,message');
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 5).join(','))).toEqual([
      '3,nhs_number,nhsNumber,invalid,nhs_number_check_digit',
      '4,family_name,familyName,invalid,missing_family_name',
      '5,local_id,localId,warning,duplicate_local_id',
    ]);
    // Only its uploader sees it.
    const tom = await signIn(web.url, 'tom');
    expect((await send(tom, `/upload/${id}`)).status).toBe(404);
    expect((await send(tom, `/upload/${id}/problems.csv`)).status).toBe(404);
    await act(tess, id, { action: 'cancel' });
  });

  it('checks again with a column changed on the page, and refuses columns that cannot trace, keeping the upload', async () => {
    const id = await uploaded();
    // Without the NHS number column, row 3 is searched by its name, sex and date of birth.
    const changed = await act(tess, id, { action: 'columns', 'column.nhsNumber': '', 'column.familyName': '2', 'column.givenName': '3', 'column.dateOfBirth': '4', 'column.sex': '5', 'column.postcode': '6', 'column.localId': '0' });
    expect(changed).toMatchObject({ status: 303, location: `/upload/${id}` });
    const page = await send(tess, `/upload/${id}`);
    expect(page.body).toMatch(/data-testid="invalid">1</);
    expect(page.body).toMatch(/<option value="" selected>Not used<\/option>/);

    const refused = await act(tess, id, { action: 'columns', 'column.familyName': '2' });
    expect(refused.status).toBe(422);
    expect(refused.body).toContain('nhsuk-error-summary');
    expect(refused.body).toContain('Those columns cannot be used');
    expect(refused.body).toContain('missing date of birth');
    expect((await send(tess, `/upload/${id}`)).body).toMatch(/data-testid="invalid">1</);

    const cancelled = await act(tess, id, { action: 'cancel' });
    expect(cancelled).toMatchObject({ status: 303, location: '/upload?cancelled=1' });
    expect(await uploadsLeft(web.dataDir)).toEqual([]);
    expect((await send(tess, `/upload/${id}`)).status).toBe(404);
  });

  it('traces the rows through the intake and lands on the batch; the same file again says so, linking that batch', async () => {
    const id = await uploaded();
    const traced = await act(tess, id, { action: 'trace' });
    expect(traced.status).toBe(303);
    const batchId = /^\/batches\/(b[\w-]+)$/.exec(traced.location ?? '')?.[1];
    expect(batchId).toBeDefined();
    const meta = await loadBatch(web.dataDir, batchId!);
    expect(meta.options).toMatchObject({ user: 'tess', wayIn: 'web' });
    expect(meta.name).toBe('study cohort');
    expect(await uploadsLeft(web.dataDir)).toEqual([]);

    const again = await uploaded();
    const duplicate = await act(tess, again, { action: 'trace' });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body).toContain('nhsuk-error-summary');
    expect(duplicate.body).toContain(`href="/batches/${batchId}"`);
    expect(await batchIds(web.dataDir)).toEqual([batchId]);
    expect(await uploadsLeft(web.dataDir)).toEqual([]);
  });

  it('shows bad files an error summary saying what to fix, and keeps none of them', async () => {
    const cases: Array<[string | Uint8Array, string, RegExp, number]> = [
      [Buffer.from([0x50, 0x4b, 0x03, 0x04, 1, 2, 3]), 'cohort.xlsx', /not a CSV file/, 415],
      ['', 'empty.csv', /The file is empty/, 422],
      ['colour,size\r\nred,9\r\n', 'colours.csv', /columns needed to trace were not found/, 422],
      ['x'.repeat(1024 * 1024 + 10), 'big.csv', /too large: this service takes files up to 1 MB/, 413],
    ];
    for (const [content, name, says, status] of cases) {
      const page = await uploadPage(tess, uploadForm(content, name));
      expect(page.status, name).toBe(status);
      expect(page.body).toContain('nhsuk-error-summary');
      expect(page.body).toMatch(says);
      expect(page.body).toContain('nhsuk-form-group--error');
    }
    const none = await uploadPage(tess, new FormData());
    expect(none.status).toBe(400);
    expect(none.body).toContain('Choose a CSV file to upload');
    expect(await uploadsLeft(web.dataDir)).toEqual([]);
  });

  it('refuses an upload form without its CSRF token', async () => {
    const page = await uploadPage(tess, uploadForm(CSV, 'x.csv'), 'not-the-token');
    expect(page.status).toBe(403);
    expect(await uploadsLeft(web.dataDir)).toEqual([]);
    const id = await uploaded();
    const noToken = await send(tess, `/upload/${id}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'action=trace' });
    expect(noToken.status).toBe(403);
    expect(await batchIds(web.dataDir)).toHaveLength(1);
    await act(tess, id, { action: 'cancel' });
  });

  it('leaves nothing behind when an upload is cut off half-way, on the page and the API', async () => {
    for (const route of ['/upload', '/api/batches']) {
      const boundary = 'cutoffboundary';
      const request = http.request(new URL(route, web.url), {
        method: 'POST',
        headers: { cookie: tess.cookie, 'x-csrf-token': tess.csrfToken, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(900 * 1024) },
      });
      request.on('error', () => undefined);
      request.write(`--${boundary}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${tess.csrfToken}\r\n`);
      request.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="cut.csv"\r\nContent-Type: text/csv\r\n\r\n`);
      request.write(`${CSV}\r\n${'A9,9434765919,SMITH,ANN,1980-01-02,F,LS1 4AP\r\n'.repeat(4000)}`);
      // The file is being written before the client goes away.
      await waitUntil(async () => (await uploadsLeft(web.dataDir)).length === 1, 'the upload to start');
      request.destroy();
      await waitUntil(async () => (await uploadsLeft(web.dataDir)).length === 0, 'the cut-off upload to be removed');
    }
    expect(await batchIds(web.dataDir)).toHaveLength(1);
  });

  it('puts nothing identifying a patient in any URL it sends or links', async () => {
    expect(urls.length).toBeGreaterThan(20);
    const leaks = urls.filter((url) => PATIENT_VALUES.some((value) => url.includes(value) || url.includes(encodeURIComponent(value))));
    expect(leaks).toEqual([]);
  });

  it('keeps uploads owner-only under the data folder', async () => {
    const id = await uploaded();
    const dir = path.join(web.dataDir, 'web', 'uploads', id);
    const { stat } = await import('node:fs/promises');
    expect((await stat(dir)).mode & 0o077).toBe(0);
    for (const name of await readdir(path.join(dir, 'file'))) expect((await stat(path.join(dir, 'file', name))).mode & 0o077).toBe(0);
    await act(tess, id, { action: 'cancel' });
  });
});

async function waitUntil(condition: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
