import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/audit/event.js';
import type { BatchMeta } from '../../src/pipeline/batch.js';
import { apiSignIn, csrfTokenIn, dataFolderWithPeople, tracedBatch, webApp, webConfig, type ApiSession, type WebFixture } from './web-support.js';

/** The auditor's page and API: the CLI's search and verify, every use recorded, and nothing else. */
describe('the audit trail on the web', () => {
  let web: WebFixture;
  let batch: BatchMeta;
  let aud: ApiSession;
  let tess: ApiSession;
  let patient: string;

  beforeAll(async () => {
    const { dir, dataDir } = await dataFolderWithPeople();
    batch = await tracedBatch(dataDir, path.join(dir, 'out'), 'tess', 15);
    web = await webApp(webConfig(dataDir, { PDS_TRACE_WEB_SIGN_IN_PER_MINUTE: '1000' }));
    aud = await apiSignIn(web.app, 'aud');
    tess = await apiSignIn(web.app, 'tess');
    patient = (await web.audit.search({ batchId: batch.id, kind: 'smsp_exchange' })).find((e) => e.nhsNumber)!.nhsNumber!;
  }, 120_000);
  afterAll(async () => web?.close());

  const as = (session: ApiSession) => ({ cookie: session.cookie, 'x-csrf-token': session.csrfToken });

  it('searches by batch, user and kind in the URL, and by NHS number only in a body', async () => {
    const byBatch = await web.app.inject({ method: 'GET', url: `/api/audit/events?batchId=${batch.id}&kind=smsp_exchange`, headers: as(aud) });
    expect(byBatch.statusCode).toBe(200);
    const events = (byBatch.json() as { events: AuditEvent[] }).events;
    expect(events.length).toBeGreaterThan(0);
    expect(new Set(events.map((e) => [e.batchId, e.kind].join(' ')))).toEqual(new Set([`${batch.id} smsp_exchange`]));

    const inUrl = await web.app.inject({ method: 'GET', url: `/api/audit/events?nhsNumber=${patient}`, headers: as(aud) });
    expect(inUrl.statusCode).toBe(400);
    expect(inUrl.json().message).toContain('never in a URL');

    const byPatient = await web.app.inject({ method: 'POST', url: '/api/audit/search', headers: as(aud), payload: { nhsNumber: patient } });
    expect(byPatient.statusCode).toBe(200);
    const found = (byPatient.json() as { events: Array<AuditEvent & { matchedUnder: string }> }).events;
    expect(found.length).toBeGreaterThan(0);
    for (const e of found) expect(e.matchedUnder).toContain(patient);

    const bad = await web.app.inject({ method: 'POST', url: '/api/audit/search', headers: as(aud), payload: { nhsNumber: '12345', kind: 'nonsense' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/nhsNumber: .*10 digits/);
    expect(bad.json().message).toContain('kind: Choose a kind of event');

    // Every search is itself in the trail, the patient in its own field, marked as from the web.
    const searched = await web.audit.search({ user: 'aud', kind: 'audit_searched' });
    expect(searched.map((e) => [e.nhsNumber ?? null, e.outcome])).toEqual(expect.arrayContaining([[null, 'listed'], [patient, 'listed']]));
    expect(searched.every((e) => e.detail?.includes('surface=web'))).toBe(true);
  });

  it('exports every match as CSV, no-store, and records the export', async () => {
    const before = (await web.audit.search({ batchId: batch.id })).length;
    const csv = await web.app.inject({ method: 'GET', url: `/api/audit/events.csv?batchId=${batch.id}`, headers: as(aud) });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['cache-control']).toBe('no-store');
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toMatch(/^seq,time,kind,user,role,origin,batch_id/);
    expect(lines.length - 1).toBe(before);
    const byPatient = await web.app.inject({ method: 'POST', url: '/api/audit/search', headers: as(aud), payload: { nhsNumber: patient, format: 'csv' } });
    expect(byPatient.body.split('\r\n')[0]).toContain('matched_under');
    await expect.poll(async () => (await web.audit.search({ user: 'aud', kind: 'audit_searched' })).filter((e) => e.outcome === 'exported').length).toBe(2);
  });

  it('verifies the chain, on the page and in the API, and records each check', async () => {
    const api = await web.app.inject({ method: 'POST', url: '/api/audit/verify', headers: as(aud) });
    expect(api.json()).toMatchObject({ intact: true, recorded: true });
    const page = await web.app.inject({ method: 'GET', url: '/audit', headers: { cookie: aud.cookie } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('NHS Confidential');
    const checked = await web.app.inject({
      method: 'POST',
      url: '/audit',
      headers: { cookie: aud.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ _csrf: csrfTokenIn(page.body), action: 'verify' }).toString(),
    });
    expect(checked.statusCode).toBe(200);
    expect(checked.body).toContain('The trail is intact');
    expect((await web.audit.search({ user: 'aud', kind: 'audit_verified' })).map((e) => e.outcome)).toEqual(['intact', 'intact']);
  });

  it('searches from the page by NHS number in the form body, showing it 3-3-4', async () => {
    const page = await web.app.inject({ method: 'GET', url: '/audit', headers: { cookie: aud.cookie } });
    const found = await web.app.inject({
      method: 'POST',
      url: '/audit',
      headers: { cookie: aud.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ _csrf: csrfTokenIn(page.body), action: 'search', nhsNumber: patient }).toString(),
    });
    expect(found.statusCode).toBe(200);
    expect(found.body).toContain(`${patient.slice(0, 3)} ${patient.slice(3, 6)} ${patient.slice(6)}`);
    const wrong = await web.app.inject({
      method: 'POST',
      url: '/audit',
      headers: { cookie: aud.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ _csrf: csrfTokenIn(page.body), action: 'search', from: 'yesterday-ish' }).toString(),
    });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.body).toContain('nhsuk-error-summary');
  });

  it('shows an auditor no batch, result or patient detail anywhere else, and a tracer no trail', async () => {
    for (const url of ['/batches', `/batches/${batch.id}`, '/api/batches', `/api/batches/${batch.id}`, `/api/batches/${batch.id}/events`, `/api/batches/${batch.id}/results`, `/api/batches/${batch.id}/files/audit`]) {
      const response = await web.app.inject({ method: 'GET', url, headers: { cookie: aud.cookie } });
      expect(response.statusCode, url).toBe(403);
      expect(response.body, url).not.toContain('cohort-tess');
    }
    for (const [method, url] of [['GET', '/audit'], ['GET', '/api/audit/events'], ['POST', '/api/audit/search'], ['POST', '/api/audit/verify']] as const) {
      expect((await web.app.inject({ method, url, headers: as(tess) })).statusCode, url).toBe(403);
    }
  });
});
