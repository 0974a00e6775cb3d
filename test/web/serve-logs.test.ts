import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCohort } from '../../src/simulator/cohort.js';
import { runCli, waitForServeUrl, type CliProcess } from '../support/worker-process.js';
import { smspClientEnv, startTestSimulator, type TestSimulator } from '../support/simulator.js';
import { dataFolderWithPeople } from './web-support.js';
import { apiUpload, POPULATION, signIn, uploadForm, waitForBatch } from './upload-support.js';

/**
 * A real `pds-trace serve` process, at its most talkative (debug, JSON lines), taken through a
 * whole journey: a refused sign-in, an upload with rows it cannot trace, the trace, the downloads,
 * an auditor's search by NHS number, and addresses that carry patient data where none belongs.
 * Nothing it prints may identify a patient: no NHS number, name, date of birth or postcode of the
 * cohort or of what PDS answered.
 */

function identifiersIn(csvFile: string, columns: readonly string[]): Set<string> {
  const rows = parse(readFileSync(csvFile), { columns: true, skip_empty_lines: true }) as Array<Record<string, string>>;
  const found = new Set<string>();
  for (const row of rows) {
    for (const column of columns) {
      const value = (row[column] ?? '').trim();
      // Short names ("Li", "Ng") would match inside ordinary words; every longer one is searched for.
      if (value.length >= 4) found.add(value);
    }
  }
  return found;
}

describe('pds-trace serve logs', () => {
  let simulator: TestSimulator;
  let serve: CliProcess;
  let url: string;
  let dir: string;

  beforeAll(async () => {
    let dataDir: string;
    ({ dir, dataDir } = await dataFolderWithPeople());
    simulator = await startTestSimulator({ ...POPULATION, certDir: path.join(dir, 'sim-certs') });
    serve = runCli(['serve', '--port', '0'], { ...smspClientEnv(simulator, dataDir), LOG_LEVEL: 'debug', PDS_TRACE_LOG_FORMAT: 'json', PDS_TRACE_WEB_SIGN_IN_PER_MINUTE: '1000' });
    url = await waitForServeUrl(serve);
  }, 120_000);
  afterAll(async () => {
    serve?.child.kill('SIGTERM');
    await serve?.exited;
    await simulator?.close();
  });

  it('print no NHS number, name, date of birth or postcode through a whole upload, trace, download and audit search', async () => {
    const cohort = await writeCohort({ ...POPULATION, rows: 80, outDir: path.join(dir, 'cohorts'), name: 'logs-cohort' });
    // Rows it cannot trace, whose values the refusal might be tempted to quote.
    const csv = `${readFileSync(cohort.csvPath, 'utf8').trimEnd()}\nL-bad-1,9434765918,Quennell,Rosalind,1970-13-45,2,ZZ99 9ZZ,1 Nowhere Lane,Elsewhere\nL-bad-2,,Featherstonehaugh,,,9,,,\n`;

    const tess = await signIn(url, 'tess');
    const failed = await fetch(new URL('/api/session', url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'tess', password: 'Quennell-1970-13-45' }) });
    expect(failed.status).toBe(401);

    const upload = await apiUpload(url, tess, uploadForm(csv, 'logs-cohort.csv'));
    expect(upload.status).toBe(202);
    const { id } = (await upload.json()) as { id: string };
    const done = await waitForBatch(url, tess, id);
    expect(done).toMatchObject({ state: 'assembled', rows: 82, done: 82 });
    // The cohort has messy rows of its own; these two are refused on top.
    expect(done.byStatus.invalid_input).toBeGreaterThanOrEqual(2);

    const results = await fetch(new URL(`/api/batches/${id}/results`, url), { headers: { cookie: tess.cookie } });
    expect(results.status).toBe(200);
    const resultsFile = path.join(dir, 'downloaded.results.csv');
    await writeFile(resultsFile, await results.text());
    expect((await fetch(new URL(`/api/batches/${id}/files/audit`, url), { headers: { cookie: tess.cookie } })).status).toBe(200);

    // An auditor looks a person up by NHS number, in the body as the API asks.
    const traced = parse(readFileSync(resultsFile), { columns: true }) as Array<Record<string, string>>;
    const someNumber = traced.map((row) => row.nhs_number ?? row.pds_nhs_number ?? '').find((n) => /^\d{10}$/.test(n));
    expect(someNumber).toBeDefined();
    const aud = await signIn(url, 'aud');
    const search = await fetch(new URL('/api/audit/search', url), {
      method: 'POST',
      headers: { cookie: aud.cookie, 'x-csrf-token': aud.csrfToken, 'content-type': 'application/json' },
      body: JSON.stringify({ nhsNumber: someNumber }),
    });
    expect(search.status).toBe(200);
    // Patient data where none belongs: in a URL (refused), and an address no route answers.
    expect((await fetch(new URL(`/api/audit/events?nhsNumber=${someNumber}`, url), { headers: { cookie: aud.cookie } })).status).toBe(400);
    expect((await fetch(new URL(`/batches/${someNumber}`, url), { headers: { cookie: tess.cookie } })).status).toBe(404);

    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    const output = serve.output();
    // It did speak, at debug level, as JSON: silence would pass the check below for nothing.
    expect(output).toContain('pds-trace web service at');
    const requests = output.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.message === 'request');
    // Each request is a line naming its route's pattern, status and user, never the address as sent.
    expect(requests).toContainEqual(expect.objectContaining({ method: 'POST', route: '/api/batches', status: 202, user: 'tess' }));
    expect(requests).toContainEqual(expect.objectContaining({ method: 'GET', route: '/api/batches/:id/results', status: 200, user: 'tess', batchId: id }));
    expect(requests).toContainEqual(expect.objectContaining({ method: 'GET', route: '/api/audit/events', status: 400, user: 'aud' }));
    expect(requests).toContainEqual(expect.objectContaining({ method: 'GET', route: '/batches/:id', status: 404, user: 'tess' }));

    const identifiers = new Set([
      ...identifiersIn(cohort.csvPath, ['nhs_number', 'family_name', 'given_name', 'date_of_birth', 'postcode', 'address_line_1']),
      ...identifiersIn(resultsFile, Object.keys(traced[0]!).filter((column) => /nhs_number|name|birth|postcode|address/.test(column))),
      '9434765918', 'Quennell', 'Rosalind', '1970-13-45', 'ZZ99 9ZZ', 'Featherstonehaugh',
    ]);
    expect(identifiers.size).toBeGreaterThan(200);
    const leaked = [...identifiers].filter((value) => new RegExp(`(^|[^\\w])${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([^\\w]|$)`).test(output));
    expect(leaked, `patient identifiers in serve's output:\n${output}`).toEqual([]);
  }, 240_000);
});
