import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCohort } from '../../src/simulator/cohort.js';
import { expectResultsMatchGroundTruth, readCsv } from '../support/pipeline.js';
import { expectAccessible, launchChromium, pageProblems, signInInBrowser } from './browser-support.js';
import { POPULATION, startUploadServer, uploadsLeft, type UploadServer } from './upload-support.js';
import { passwordOf } from './web-support.js';

/**
 * The analyst's upload journey in chromium against `serve` (embedded runner, tracing against the
 * simulator): sign in, a bad file's error summary, a generated cohort's check, trace, the batch
 * done, its results downloaded and checked row by row against the cohort's ground truth.
 */
describe('the upload journey in chromium', () => {
  let web: UploadServer;
  let browser: Browser;
  let cohort: { csvPath: string; expectedPath: string };

  beforeAll(async () => {
    web = await startUploadServer();
    cohort = await writeCohort({ ...POPULATION, rows: 80, outDir: path.join(web.dir, 'cohorts'), name: 'research-cohort' });
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await web?.close();
  });

  it('uploads a cohort, checks it, traces it and downloads results that match the ground truth, with no accessibility violations', async () => {
    const expected = readCsv(cohort.expectedPath);
    const invalid = expected.filter((row) => row.expected_status === 'invalid_input').length;
    // The seed's cohort has rows that cannot be traced, so the check has a row error to show.
    expect(invalid).toBeGreaterThan(0);

    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    const visited: string[] = [];
    const problems = pageProblems(page);
    page.on('request', (request) => visited.push(request.url()));

    await signInInBrowser(page, web.url, 'tess', passwordOf('tess'));

    await page.getByRole('link', { name: 'Upload', exact: true }).click();
    await page.waitForURL((url) => url.pathname === '/upload');
    await page.getByText('Columns and formats we understand').click();
    expect(await page.textContent('main')).toContain('Each row needs a date of birth');
    await expectAccessible(page, 'upload');

    // A workbook instead of its CSV: the error summary, focused, saying what to do.
    await page.setInputFiles('#file-input', { name: 'cohort.xlsx', mimeType: 'application/octet-stream', buffer: Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(64)]) });
    await page.getByRole('button', { name: 'Upload and check' }).click();
    await page.waitForSelector('.nhsuk-error-summary');
    expect(await page.textContent('.nhsuk-error-summary')).toContain('Save As');
    await page.locator('.nhsuk-error-summary:focus').waitFor();
    await expectAccessible(page, 'upload-error');

    await page.setInputFiles('#file-input', cohort.csvPath);
    await page.getByRole('button', { name: 'Upload and check' }).click();
    await page.waitForURL((url) => /^\/upload\/[A-Za-z0-9_-]{22}$/.test(url.pathname));
    expect(await page.getByTestId('rows').textContent()).toBe('80');
    expect(await page.getByTestId('invalid').textContent()).toBe(String(invalid));
    expect(await page.getByTestId('valid').textContent()).toBe(String(80 - invalid));
    expect(await page.getByTestId('requests').textContent()).toBe(String(80 - invalid));
    expect(await page.getByTestId('row-problems').locator('tbody tr').count()).toBe(invalid);
    // Row numbers count the header: the first invalid data row n is spreadsheet row n + 1.
    const firstInvalid = Number(expected.find((row) => row.expected_status === 'invalid_input')!.row_number);
    expect(await page.getByTestId('row-problems').locator('tbody tr').first().locator('td').first().textContent()).toBe(String(firstInvalid + 1));
    await expectAccessible(page, 'upload-check');

    await page.getByRole('button', { name: 'Trace 80 rows' }).click();
    await page.waitForURL((url) => /^\/batches\/b[\w-]+$/.test(url.pathname));
    // The page follows the batch by itself (server-sent events) and shows its downloads when done: no reload.
    let reloaded = false;
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) reloaded = true;
    });
    await page.getByTestId('download-results').waitFor({ timeout: 120_000 });
    expect(reloaded).toBe(false);
    expect(await page.textContent('main')).toContain('80 done of 80');
    await expectAccessible(page, 'upload-batch-done');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-results').click()]);
    expect(download.suggestedFilename()).toBe('research-cohort.results.csv');
    expectResultsMatchGroundTruth((await download.path())!, cohort.expectedPath);

    // Nothing identifying a patient in any URL the browser asked for.
    const identifiers = readCsv(cohort.csvPath).flatMap((row) => [row.nhs_number, row.family_name, row.date_of_birth, row.postcode]).filter((v): v is string => Boolean(v && v.length >= 4));
    expect(visited.filter((url) => identifiers.some((id) => url.includes(id) || url.includes(encodeURIComponent(id))))).toEqual([]);
    expect(await uploadsLeft(web.dataDir)).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  }, 240_000);
});
