import { readFile, stat } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TRACE_STATUSES } from '../../../src/domain/outcome.js';
import type { RowResult } from '../../../src/domain/row-result.js';
import { NHS_CONFIDENTIAL_LABEL, SIMULATED_LABEL } from '../../../src/csv/output/confidential-label.js';
import { RATE_DESCRIPTIONS, SummaryBuilder, writeSummaryHtml, writeSummaryJson, type BatchSummary } from '../../../src/csv/output/summary.js';
import { PDS_TRACE_VERSION, type Provenance } from '../../../src/csv/output/provenance.js';
import { exchange, matchedResult, rejectedResult, tempDir, type TempDir } from './fixtures.js';

let tmp: TempDir;
beforeEach(async () => {
  tmp = await tempDir();
});
afterEach(async () => {
  await tmp.cleanup();
});

const START = new Date('2025-01-02T09:00:00.000Z');
const FINISH = new Date('2025-01-02T09:00:10.000Z');

function build(results: RowResult[], finish: Record<string, unknown> = {}, inputFile = 'cohort.csv'): BatchSummary {
  const builder = new SummaryBuilder({ batchId: 'b1', inputFile, user: 'analyst1', startedAt: START });
  for (const r of results) builder.add(r);
  return builder.finish({ finishedAt: FINISH, ...finish });
}

const noMatch = (row: number): RowResult => ({ rowNumber: row, status: 'no_match', reason: 'no_match', exchanges: [exchange({ status: 'no_match', reason: 'no_match', responseCode: 'DEMOG-0001', durationMs: 200 })] });
const failed = (row: number): RowResult => ({
  rowNumber: row,
  status: 'error',
  reason: 'timeout',
  exchanges: [1, 2, 3].map((attempt) => exchange({ attempt, status: 'error', reason: 'timeout', responseCode: undefined, durationMs: 1000 })),
});

describe('SummaryBuilder', () => {
  it('counts every status, zeros included, and every reason', () => {
    const s = build([matchedResult(1), matchedResult(2), noMatch(3), rejectedResult(4, 'missing_sex'), failed(5)]);
    expect(Object.keys(s.byStatus)).toEqual([...TRACE_STATUSES]);
    expect(s.byStatus).toMatchObject({ matched: 2, no_match: 1, invalid_input: 1, error: 1, verified: 0, superseded: 0 });
    expect(s.byReason).toEqual({ ok: 2, no_match: 1, missing_sex: 1, timeout: 1 });
    expect(s.rows).toBe(5);
  });

  it('gives each rate with what it counts: of the rows PDS answered about, and of every row, invalid and error rows included', () => {
    const s = build([matchedResult(1), { ...matchedResult(2), status: 'verified' }, { ...matchedResult(3), status: 'superseded' }, noMatch(4), rejectedResult(5, 'missing_sex'), failed(6)]);
    expect(s.tracedRows).toBe(4);
    expect(s.rates.foundOfAnswered).toEqual({ description: RATE_DESCRIPTIONS.foundOfAnswered, count: 3, outOf: 4, rate: 0.75 });
    expect(s.rates.foundOfAllRows).toEqual({ description: RATE_DESCRIPTIONS.foundOfAllRows, count: 3, outOf: 6, rate: 0.5 });
    expect(s.rates.foundOfAnswered.description).toContain('invalid_input and error rows are not counted');
    expect(s.rates.foundOfAllRows.description).toContain('invalid_input and error rows are counted as not found');
  });

  it('has no rate when there is nothing to count it over', () => {
    expect(build([rejectedResult(1, 'missing_sex')]).rates.foundOfAnswered.rate).toBeNull();
    expect(build([rejectedResult(1, 'missing_sex')]).rates.foundOfAllRows.rate).toBe(0);
    expect(build([]).rates.foundOfAllRows.rate).toBeNull();
  });

  it('writes people\'s times in the machine\'s zone, named, beside the ISO times', () => {
    const s = new SummaryBuilder({ batchId: 'b1', inputFile: 'c.csv', user: 'u', startedAt: new Date('2026-07-06T10:04:00Z') }).finish({
      finishedAt: new Date('2026-12-06T10:04:00Z'),
      timeZone: 'Europe/London',
    });
    expect(s).toMatchObject({ startedAt: '2026-07-06T10:04:00.000Z', startedAtLocal: '6 Jul 2026 11:04 BST', finishedAtLocal: '6 Dec 2026 10:04 GMT' });
  });

  it('reports every fallback asked for, with the rows it ran on and what they became, zeros included', () => {
    const builder = new SummaryBuilder({
      batchId: 'b1', inputFile: 'c.csv', user: 'u', startedAt: START,
      fallbacks: { search_when_not_verified: 'search when not verified', search_without_postcode: 'search without postcode' },
    });
    builder.add({ ...noMatch(1), fallbacks: ['search_when_not_verified'] });
    builder.add({ ...noMatch(2), fallbacks: ['search_when_not_verified'] });
    builder.add({ ...matchedResult(3), fallbacks: ['search_when_not_verified'] });
    builder.add(matchedResult(4));
    expect(builder.finish({ finishedAt: FINISH }).fallbacksUsed).toEqual({
      search_when_not_verified: { description: 'search when not verified', rows: 3, byFinalStatus: { no_match: 2, matched: 1 } },
      search_without_postcode: { description: 'search without postcode', rows: 0, byFinalStatus: {} },
    });
  });

  it('groups rejected rows by the field at fault', () => {
    const s = build([
      rejectedResult(1, 'nhs_number_check_digit'),
      rejectedResult(2, 'nhs_number_check_digit'),
      rejectedResult(3, 'missing_nhs_number'),
      rejectedResult(4, 'date_of_birth_in_future'),
      rejectedResult(5, 'missing_family_name'),
      rejectedResult(6, 'ragged_row'),
      rejectedResult(7, 'duplicate_local_id'),
      noMatch(8),
    ]);
    expect(s.dataQuality).toEqual({
      nhsNumber: { rows: 3, byReason: { nhs_number_check_digit: 2, missing_nhs_number: 1 } },
      dateOfBirth: { rows: 1, byReason: { date_of_birth_in_future: 1 } },
      familyName: { rows: 1, byReason: { missing_family_name: 1 } },
      row: { rows: 1, byReason: { ragged_row: 1 } },
      localId: { rows: 1, byReason: { duplicate_local_id: 1 } },
    });
  });

  it('counts rows per data-quality flag, zeros included, and rows and differences per PDS field (MSCA-DQ-05)', () => {
    const builder = new SummaryBuilder({ batchId: 'b1', inputFile: 'cohort.csv', user: 'analyst1', startedAt: START });
    builder.add(matchedResult(1), { flags: ['duplicate_nhs_number', 'demographic_discrepancy'], discrepancies: [{ field: 'postcode', local: 'LS1 1AA', pds: 'LS1 6AE' }, { field: 'sex', local: '1', pds: '2' }] });
    builder.add(matchedResult(2), { flags: ['duplicate_nhs_number', 'date_of_birth_excel_serial'], discrepancies: [] });
    builder.add(matchedResult(3), { flags: ['demographic_discrepancy'], discrepancies: [{ field: 'postcode', local: 'LS2 1AA', pds: 'LS1 6AE' }] });
    builder.add(matchedResult(4));
    const s = builder.finish({ finishedAt: FINISH });
    expect(s.flaggedRows).toEqual({
      not_verified_nhs_number: 0,
      duplicate_nhs_number: 2,
      superseded_nhs_number: 0,
      superseded_replacement_in_file: 0,
      invalidated_record: 0,
      pds_date_of_death: 0,
      demographic_discrepancy: 2,
      duplicate_local_id: 0,
      date_of_birth_excel_serial: 1,
    });
    expect(s.discrepancies).toEqual({
      rows: 2,
      byField: { family_name: 0, given_name: 0, date_of_birth: 0, sex: 1, postcode: 2, address: 0, date_of_death: 0, gp_practice: 0 },
    });
  });

  it('reports exchange timings, retries and the rate from the run time', () => {
    const s = build([matchedResult(1), noMatch(2), failed(3), rejectedResult(4, 'missing_sex')]);
    expect(s.durationSeconds).toBe(10);
    expect(s.timings).toEqual({
      rowsPerSecond: 0.4,
      exchanges: 5,
      retries: 2,
      rowsRetried: 1,
      meanExchangeMs: 664,
      p95ExchangeMs: 1000,
      maxExchangeMs: 1000,
      exchangesByInteraction: { getPatientDetailsBySearch: 5 },
      exchangesByResponseCode: { 'SMSP-0000': 1, 'DEMOG-0001': 1, none: 3 },
    });
  });

  it('takes the pipeline rate and extra details, which cannot overwrite computed figures', () => {
    const s = build([matchedResult(1)], { rowsPerSecond: 12.5, runner: 'embedded', rows: 999 });
    expect(s.timings.rowsPerSecond).toBe(12.5);
    expect(s.runner).toBe('embedded');
    expect(s.rows).toBe(1);
    expect(s).toMatchObject({ label: NHS_CONFIDENTIAL_LABEL, batchId: 'b1', inputFile: 'cohort.csv', user: 'analyst1', startedAt: START.toISOString(), finishedAt: FINISH.toISOString() });
  });
});

describe('summary files', () => {
  it('writes JSON with the confidentiality label first, owner-only', async () => {
    const file = tmp.file('cohort.summary.json');
    await writeSummaryJson(file, build([matchedResult(1)]));
    const text = await readFile(file, 'utf8');
    expect(Object.keys(JSON.parse(text))[0]).toBe('label');
    expect(JSON.parse(text)).toMatchObject({ label: 'NHS Confidential: Personal Data about a patient', rows: 1, byStatus: { matched: 1 } });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('writes a self-contained HTML page headed by the label, with the chart and tables', async () => {
    const file = tmp.file('cohort.summary.html');
    await writeSummaryHtml(file, build([matchedResult(1), noMatch(2), rejectedResult(3, 'nhs_number_check_digit'), failed(4)]));
    const html = await readFile(file, 'utf8');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const body = html.slice(html.indexOf('<body>'));
    expect(body.indexOf(NHS_CONFIDENTIAL_LABEL)).toBeLessThan(body.indexOf('<h1>'));
    expect(html).toContain('<svg');
    expect(html.match(/<rect /g)).toHaveLength(TRACE_STATUSES.length);
    expect(html).toContain('Data quality');
    expect(html).toContain('NHS number fails the Modulus 11 check digit');
    // Each rate says what it counts: 1 of the 4 rows, and 1 of the 2 rows PDS answered about.
    expect(html).toContain('<strong>25.0%</strong>Matched or verified: 1 of 4 rows (25.0%), invalid and error rows included');
    expect(html).toContain('<strong>50.0%</strong>Matched or verified: 1 of 2 rows PDS answered about (50.0%), invalid and error rows left out');
    expect(html).toContain('Share of all rows');
  });

  it('shows the back-office and PDS-difference counts, and says so when there are none', async () => {
    const builder = new SummaryBuilder({ batchId: 'b1', inputFile: 'cohort.csv', user: 'analyst1', startedAt: START });
    builder.add(matchedResult(1), { flags: ['invalidated_record', 'demographic_discrepancy'], discrepancies: [{ field: 'gp_practice', local: 'Y90002', pds: 'Y90001' }] });
    const file = tmp.file('flagged.html');
    await writeSummaryHtml(file, builder.finish({ finishedAt: FINISH }));
    const html = await readFile(file, 'utf8');
    expect(html).toMatch(/<td>Invalidated NHS number<\/td><td>invalidated_record<\/td><td>MSCA-DQ-04[^<]*<\/td><td class="num">1<\/td>/);
    expect(html).toMatch(/<td>GP practice<\/td><td>gp_practice<\/td><td class="num">1<\/td>/);
    expect(html).not.toContain('duplicate_nhs_number');

    const clean = tmp.file('clean.html');
    await writeSummaryHtml(clean, build([matchedResult(1)]));
    const cleanHtml = await readFile(clean, 'utf8');
    expect(cleanHtml).toContain('No row was flagged for the back office.');
    expect(cleanHtml).toContain('No traced row differs from its PDS record.');
  });

  it('labels printed pages in their margins with the marking and "Page X of Y" (MSCA-IG-04)', async () => {
    const file = tmp.file('print.html');
    await writeSummaryHtml(file, build([matchedResult(1)]));
    const html = await readFile(file, 'utf8');
    const style = html.slice(html.indexOf('<style>'), html.indexOf('</style>'));
    expect(style).toMatch(/@page\s*\{/);
    expect(style).toContain(`@top-center{content:"${NHS_CONFIDENTIAL_LABEL}"`);
    expect(style).toContain(`@bottom-left{content:"${NHS_CONFIDENTIAL_LABEL}"`);
    expect(style).toContain('@bottom-right{content:"Page " counter(page) " of " counter(pages)');
    // And on screen: the marking heads the page and ends it.
    const body = html.slice(html.indexOf('<body>'));
    expect(body.indexOf(NHS_CONFIDENTIAL_LABEL)).toBeLessThan(body.indexOf('<h1>'));
    expect(body.lastIndexOf(NHS_CONFIDENTIAL_LABEL)).toBeGreaterThan(body.indexOf('<h2>Timings</h2>'));
  });

  it('loads nothing from anywhere: no scripts, external links, fonts or images', async () => {
    const file = tmp.file('s.html');
    await writeSummaryHtml(file, build([matchedResult(1)]));
    const html = await readFile(file, 'utf8');
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(|src=|href=/i);
    // The only URL is the SVG namespace, which is an identifier, not a fetch.
    expect(html.match(/https?:\/\/[^"\s]+/g)).toEqual(['http://www.w3.org/2000/svg']);
    expect(html).toContain("default-src 'none'");
  });

  it('escapes file names, users, reasons and details so nothing can inject markup', async () => {
    const file = tmp.file('s.html');
    const evil = '<script>alert(1)</script>"\'&';
    const s = build([{ ...rejectedResult(1, '<img src=x onerror=alert(1)>') }], { note: evil }, `${evil}.csv`);
    await writeSummaryHtml(file, { ...s, user: evil });
    const html = await readFile(file, 'utf8');
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;');
  });

  it('says SIMULATED in the JSON and in a banner beside the marking, head, foot and print margins, for a simulated batch', async () => {
    const summary = build([matchedResult(1)], { simulated: true, provider: 'built-in simulator' });
    const json = tmp.file('sim.json');
    await writeSummaryJson(json, summary);
    const parsed = JSON.parse(await readFile(json, 'utf8')) as BatchSummary;
    expect(parsed).toMatchObject({ simulated: true, provider: 'built-in simulator' });
    // Right after the marking, where a reader of the JSON starts.
    expect(Object.keys(parsed).slice(0, 4)).toEqual(['label', 'simulatedWarning', 'simulated', 'provider']);
    expect(parsed.simulatedWarning).toBe(SIMULATED_LABEL);

    const file = tmp.file('sim.html');
    await writeSummaryHtml(file, summary);
    const html = await readFile(file, 'utf8');
    const body = html.slice(html.indexOf('<body>'));
    const banner = `<p class="simulated" role="alert">${SIMULATED_LABEL}</p>`;
    expect(body.indexOf('<p class="simulated-mark">SIMULATED</p>')).toBeLessThan(body.indexOf('<h1>'));
    expect(body.indexOf(banner)).toBeGreaterThan(body.indexOf(NHS_CONFIDENTIAL_LABEL));
    expect(body.indexOf(banner)).toBeLessThan(body.indexOf('<h1>'));
    expect(body.lastIndexOf(banner)).toBeGreaterThan(body.indexOf('<h2>Timings</h2>'));
    expect(html).toContain('<title>SIMULATED trace summary: cohort.csv</title>');
    expect(html).toContain(`@top-center{content:"${NHS_CONFIDENTIAL_LABEL} | SIMULATED"`);
  });

  it('records provenance in JSON and HTML: provider, SIMULATED, version, options and what each fallback changed', async () => {
    const provenance: Provenance = {
      provider: 'built-in simulator',
      simulated: true,
      pdsTraceVersion: PDS_TRACE_VERSION,
      options: { format: 'mesh', minimal: true, fallbacks: ['search_when_not_verified'], mappingFile: 'columns.txt', dayFirst: true, bom: false },
    };
    const builder = new SummaryBuilder({ batchId: 'b1', inputFile: 'cohort.csv', user: 'analyst1', startedAt: START, fallbacks: { search_when_not_verified: 'search by demographics when the NHS number is not verified' } });
    for (let row = 1; row <= 17; row++) builder.add({ ...noMatch(row), fallbacks: ['search_when_not_verified'] });
    const summary = builder.finish({ finishedAt: FINISH, provenance });
    const json = tmp.file('p.json');
    await writeSummaryJson(json, summary);
    const parsed = JSON.parse(await readFile(json, 'utf8')) as BatchSummary;
    expect(PDS_TRACE_VERSION).toMatch(/^\d+\.\d+\.\d+/);
    expect(parsed.provenance).toEqual(provenance);
    expect(parsed).toMatchObject({ simulated: true, simulatedWarning: SIMULATED_LABEL });
    expect(parsed.fallbacksUsed.search_when_not_verified).toMatchObject({ rows: 17, byFinalStatus: { no_match: 17 } });

    const file = tmp.file('p.html');
    await writeSummaryHtml(file, summary);
    const html = await readFile(file, 'utf8');
    expect(html).toContain('<h2>Where the answers came from</h2>');
    expect(html).toContain('<td>Answers from</td><td>SIMULATED: built-in simulator (synthetic population, not PDS)</td>');
    expect(html).toContain(`<td>pds-trace version</td><td>${PDS_TRACE_VERSION}</td>`);
    expect(html).toContain('<td>Output format</td><td>mesh</td>');
    expect(html).toContain('<td>Minimal (NHS number only, no details)</td><td>yes</td>');
    expect(html).toContain('<td>Column mapping</td><td>columns.txt</td>');
    expect(html).toContain('<td>search by demographics when the NHS number is not verified</td><td>search_when_not_verified</td><td class="num">17</td><td class="num">No match: 17</td>');
  });

  it('says when no fallback was asked for', async () => {
    const file = tmp.file('n.html');
    await writeSummaryHtml(file, build([matchedResult(1)]));
    expect(await readFile(file, 'utf8')).toContain('No fallback was asked for');
  });

  it('never says SIMULATED for a batch traced against a real SMSP, and names its provider', async () => {
    const summary = build([matchedResult(1)], { simulated: false, provider: 'https://smsp.example.nhs.uk/smsp/pds' });
    const json = tmp.file('real.json');
    const file = tmp.file('real.html');
    await writeSummaryJson(json, summary);
    await writeSummaryHtml(file, summary);
    const text = await readFile(json, 'utf8');
    expect(JSON.parse(text)).toMatchObject({ simulated: false, provider: 'https://smsp.example.nhs.uk/smsp/pds' });
    expect(text).not.toContain('SIMULATED');
    const html = await readFile(file, 'utf8');
    expect(html).not.toMatch(/simulat/i);
    expect(html).toContain('https://smsp.example.nhs.uk/smsp/pds');
  });
});
