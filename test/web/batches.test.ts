import { readFileSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAuditStore } from '../../src/audit/store.js';
import type { BatchMeta } from '../../src/pipeline/batch.js';
import { apiSignIn, dataFolderWithPeople, tracedBatch, webApp, webConfig, type ApiSession, type WebFixture } from './web-support.js';

describe('batches pages, the batch API and result downloads', () => {
  let dir: string;
  let dataDir: string;
  let web: WebFixture;
  let tessBatch: BatchMeta;
  let tomBatch: BatchMeta;
  const as: Record<string, ApiSession> = {};

  beforeAll(async () => {
    ({ dir, dataDir } = await dataFolderWithPeople());
    tessBatch = await tracedBatch(dataDir, path.join(dir, 'out-tess'), 'tess', 20, new Date('2026-12-01T09:00:00Z'));
    tomBatch = await tracedBatch(dataDir, path.join(dir, 'out-tom'), 'tom', 12, new Date('2026-12-02T09:00:00Z'));
    web = await webApp(webConfig(dataDir, { PDS_TRACE_WEB_SIGN_IN_PER_MINUTE: '1000' }));
    for (const id of ['tess', 'tom', 'ann', 'otto']) as[id] = await apiSignIn(web.app, id);
  }, 120_000);
  afterAll(async () => web?.close());

  const get = (who: string, url: string) => web.app.inject({ method: 'GET', url, headers: { cookie: as[who]!.cookie } });

  it('lists a tracer\'s own batches only, and every batch for a role with batch.read.any, newest first', async () => {
    const tess = await get('tess', '/batches');
    expect(tess.statusCode).toBe(200);
    expect(tess.body).toContain('Your batches');
    expect(tess.body).toContain(`/batches/${tessBatch.id}`);
    expect(tess.body).not.toContain(tomBatch.id);
    expect(tess.body).toContain('cohort-tess.csv');
    expect(tess.body).toContain('nhsuk-tag--green');
    expect(tess.body).toContain('NHS Confidential');
    // Submitted in local time with the zone named.
    expect(tess.body).toMatch(/[12] Dec 2026 \d{2}:\d{2} [A-Z+\-0-9:]+/);

    const otto = await get('otto', '/batches');
    expect(otto.body).toContain('All batches');
    expect(otto.body.indexOf(tomBatch.id)).toBeLessThan(otto.body.indexOf(tessBatch.id));
    expect(otto.body).toContain('<td class="nhsuk-table__cell">tom</td>');

    const api = (await get('tom', '/api/batches')).json() as { batches: Array<{ id: string }> };
    expect(api.batches.map((b) => b.id)).toEqual([tomBatch.id]);
  });

  it('shows a batch in full to its submitter: who, when, file, options, the provider marked SIMULATED, counts', async () => {
    const page = await get('tess', `/batches/${tessBatch.id}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('SIMULATED: not real PDS data');
    expect(page.body).toContain('built-in simulator');
    expect(page.body).toContain('nhsuk-summary-list');
    expect(page.body).toContain('20 done of 20');
    expect(page.body).toContain(`href="/api/batches/${tessBatch.id}/files/results"`);
    // Once done: the outcomes, the summary's rates and the data-quality findings.
    expect(page.body).toContain('Outcomes');
    expect(page.body).toContain('data-testid="rates"');
    expect(page.body).toContain('data-testid="data-quality"');
    expect(page.body).toContain('NHS Confidential');

    const json = (await get('tess', `/api/batches/${tessBatch.id}`)).json() as { state: string; rows: number; done: number; byStatus: Record<string, number>; simulated: boolean };
    expect(json).toMatchObject({ state: 'assembled', rows: 20, done: 20, simulated: true });
    expect(Object.values(json.byStatus).reduce((a, b) => a + b, 0)).toBe(20);
  });

  it("answers another tracer's batch as if it did not exist, and audits the refusal", async () => {
    for (const url of [`/batches/${tomBatch.id}`, `/api/batches/${tomBatch.id}`, `/api/batches/${tomBatch.id}/results`]) {
      const response = await get('tess', url);
      expect(response.statusCode, url).toBe(404);
      expect(response.body).not.toContain('cohort-tom');
    }
    const audit = await openAuditStore({ dataDir });
    try {
      const refusals = await audit.search({ user: 'tess', kind: 'access_denied', batchId: tomBatch.id });
      expect(refusals).toHaveLength(3);
    } finally {
      await audit.close();
    }
  });

  it('lets an operator read any batch\'s counts but download no results', async () => {
    expect((await get('otto', `/batches/${tessBatch.id}`)).statusCode).toBe(200);
    expect((await get('otto', `/batches/${tessBatch.id}`)).body).toContain('Only the person who submitted this batch can download its files');
    expect((await get('otto', `/batches/${tessBatch.id}`)).body).not.toContain('data-testid="rates"');
    expect((await get('otto', `/api/batches/${tessBatch.id}/results`)).statusCode).toBe(403);
    // An analyst may download results, but only of their own batches.
    expect((await get('ann', `/api/batches/${tessBatch.id}/results`)).statusCode).toBe(404);
  });

  it('downloads the results to their owner with no-store, the file as written, and audits it', async () => {
    const response = await get('tess', `/api/batches/${tessBatch.id}/results`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(response.headers['content-disposition']).toContain('cohort-tess.SIMULATED.results.csv');
    expect(response.body).toBe(readFileSync(tessBatch.outputs!.results, 'utf8'));
    const audit = await openAuditStore({ dataDir });
    try {
      expect((await audit.search({ user: 'tess', kind: 'results_downloaded' })).map((e) => [e.batchId, e.detail])).toContainEqual([tessBatch.id, 'surface=web file=results']);
    } finally {
      await audit.close();
    }
  });

  it('offers every output file to its owner only, each no-store, named as written, and each download audited', async () => {
    const kinds = { results: 'results', audit: 'audit', 'summary.json': 'summaryJson', 'summary.html': 'summaryHtml', 'back-office': 'backOffice', discrepancies: 'discrepancies' } as const;
    const page = (await get('tess', `/batches/${tessBatch.id}`)).body;
    for (const [kind, output] of Object.entries(kinds)) {
      const url = `/api/batches/${tessBatch.id}/files/${kind}`;
      expect(page, kind).toContain(`href="${url}"`);
      const response = await get('tess', url);
      expect(response.statusCode, kind).toBe(200);
      expect(response.headers['cache-control'], kind).toBe('no-store');
      expect(response.headers['content-disposition'], kind).toContain(path.basename(tessBatch.outputs![output]));
      expect(response.body, kind).toBe(readFileSync(tessBatch.outputs![output], 'utf8'));
      // Another tracer: as if there were no such batch. An operator: not their role.
      expect((await get('tom', url)).statusCode, kind).toBe(404);
      expect((await get('otto', url)).statusCode, kind).toBe(403);
    }
    expect((await get('tess', `/api/batches/${tessBatch.id}/files/users.json`)).statusCode).toBe(404);
    const audit = await openAuditStore({ dataDir });
    try {
      const details = (await audit.search({ user: 'tess', kind: 'results_downloaded', batchId: tessBatch.id })).map((e) => e.detail);
      for (const kind of Object.keys(kinds)) expect(details).toContain(`surface=web file=${kind}`);
    } finally {
      await audit.close();
    }
  });

  it('refuses a malformed batch id as no batch, reading nothing', async () => {
    for (const id of ['..%2F..%2Fusers', 'b2026', tessBatch.id.toUpperCase()]) {
      expect((await get('tess', `/api/batches/${id}`)).statusCode).toBe(404);
    }
  });

  it('puts nothing identifying a patient in any link: only fixed paths and batch ids', async () => {
    const pages = [await get('tess', '/batches'), await get('tess', `/batches/${tessBatch.id}`)];
    for (const page of pages) {
      for (const [, href] of page.body.matchAll(/(?:href|action|src)="([^"]*)"/g)) {
        expect(href).toMatch(/^(#[A-Za-z]+|\/(?:[a-z-]+\/?)*(?:[a-z0-9.-]+)?|\/(?:batches|api\/batches)\/b\d{8}T\d{6}Z-[0-9a-f]{8}-[0-9a-f]{4}(?:\/results|\/files\/[a-z.-]+)?)$/);
      }
    }
  });

  it('keeps sessions in owner-only files, the signing key too', async () => {
    const sessions = path.join(dataDir, 'web', 'sessions');
    expect(statSync(sessions).mode & 0o777).toBe(0o700);
    const files = await readdir(sessions);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect(statSync(path.join(sessions, file)).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(dataDir, 'web', 'session-key')).mode & 0o777).toBe(0o600);
    // The files are named by a hash of the session id: a listing gives no usable cookie.
    const cookieId = decodeURIComponent(as.tess!.cookie.split('=')[1]!).split('.')[0]!;
    expect(files.join(' ')).not.toContain(cookieId);
  });
});
