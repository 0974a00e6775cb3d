import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATUSES_WITH_NHS_NUMBER, type TraceStatus } from '../../src/domain/outcome.js';
import type { BatchMeta } from '../../src/pipeline/batch.js';
import { RESEARCH_COLUMNS } from '../../src/pipeline/research-file.js';
import { readCsv } from '../support/pipeline.js';
import { apiSignIn, dataFolderWithPeople, tracedBatch, webApp, webConfig, type ApiSession, type WebFixture } from './web-support.js';

/** `GET /api/batches/:id/research`: the minimised linkage file, to analysts, for their own batches. */
describe('the research file of a batch', () => {
  let dir: string;
  let web: WebFixture;
  let annBatch: BatchMeta;
  let tomBatch: BatchMeta;
  let tessBatch: BatchMeta;
  const as: Record<string, ApiSession> = {};

  beforeAll(async () => {
    let dataDir: string;
    ({ dir, dataDir } = await dataFolderWithPeople());
    annBatch = await tracedBatch(dataDir, path.join(dir, 'out-ann'), 'ann', 60);
    tomBatch = await tracedBatch(dataDir, path.join(dir, 'out-tom'), 'tom', 10);
    tessBatch = await tracedBatch(dataDir, path.join(dir, 'out-tess'), 'tess', 10);
    web = await webApp(webConfig(dataDir, { PDS_TRACE_WEB_SIGN_IN_PER_MINUTE: '1000' }));
    for (const id of ['ann', 'tess', 'otto']) as[id] = await apiSignIn(web.app, id);
  }, 120_000);
  afterAll(async () => web?.close());

  const get = (who: string, url: string) => web.app.inject({ method: 'GET', url, headers: { cookie: as[who]!.cookie } });

  it('gives the analyst who submitted it one line a row: row, local id, status, and only a trusted NHS number', async () => {
    const response = await get('ann', `/api/batches/${annBatch.id}/research`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['content-type']).toMatch(/^text\/csv/);
    expect(response.headers['content-disposition']).toContain('cohort-ann.SIMULATED.research.csv');

    const [header, ...lines] = parse(response.body) as string[][];
    expect(header).toEqual([...RESEARCH_COLUMNS]);
    const results = readCsv(annBatch.outputs!.results);
    expect(lines).toHaveLength(results.length);
    lines.forEach(([rowNumber, localId, status, nhsNumber], i) => {
      const result = results[i]!;
      expect(rowNumber).toBe(String(i + 1));
      expect(localId).toBe(result.local_id);
      expect(status).toBe(result.trace_status);
      expect(nhsNumber).toBe(STATUSES_WITH_NHS_NUMBER.has(result.trace_status as TraceStatus) ? result.trace_nhs_number : '');
    });
    // The cohort has people found and people not: both kinds of line are there.
    expect(lines.some((l) => l[3] !== '')).toBe(true);
    expect(lines.some((l) => l[3] === '')).toBe(true);
  });

  it('carries no demographics: no name, date of birth, postcode or address of the input or of PDS', async () => {
    const body = (await get('ann', `/api/batches/${annBatch.id}/research`)).body;
    const cells = new Set((parse(body) as string[][]).flat());
    const input = readCsv(path.join(dir, 'out-ann', 'cohort-ann.csv'));
    const results = readCsv(annBatch.outputs!.results);
    // Sex is left out of the comparison only because its codes (1, 2, 9) are row numbers too.
    const demographic = /name|birth|dob|postcode|address|death|practice/i;
    const values = [...input, ...results].flatMap((row) => Object.entries(row).filter(([column, value]) => demographic.test(column) && value !== '').map(([, value]) => value));
    expect(values.length).toBeGreaterThan(100);
    expect(values.filter((value) => cells.has(value))).toEqual([]);
    expect(readFileSync(annBatch.outputs!.results, 'utf8')).toContain('trace_family_name');
  });

  it('records each download as research_downloaded', async () => {
    const events = await web.audit.search({ batchId: annBatch.id, kind: 'research_downloaded' });
    expect(events.length).toBeGreaterThanOrEqual(2);
    expect(events[0]).toMatchObject({ user: 'ann', outcome: 'sent', detail: 'surface=web file=research' });
  });

  it('refuses a tracer and an operator by role (403) and another user\'s batch as none (404)', async () => {
    expect((await get('tess', `/api/batches/${tessBatch.id}/research`)).statusCode).toBe(403);
    expect((await get('otto', `/api/batches/${annBatch.id}/research`)).statusCode).toBe(403);
    const other = await get('ann', `/api/batches/${tomBatch.id}/research`);
    expect(other.statusCode).toBe(404);
    expect(other.json()).toMatchObject({ code: 'not_found' });
  });

  it('links it on the batch page for the analyst, not for a tracer', async () => {
    const ann = await get('ann', `/batches/${annBatch.id}`);
    expect(ann.body).toContain(`href="/api/batches/${annBatch.id}/research"`);
    const tess = await get('tess', `/batches/${tessBatch.id}`);
    expect(tess.statusCode).toBe(200);
    expect(tess.body).not.toContain('/research"');
  });
});
