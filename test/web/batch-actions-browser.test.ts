import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCohort } from '../../src/simulator/cohort.js';
import { RESEARCH_COLUMNS } from '../../src/pipeline/research-file.js';
import { expectAccessible, launchChromium, signInInBrowser } from './browser-support.js';
import { ageBatch, interruptedBatch } from './batch-actions-support.js';
import { apiUpload, POPULATION, signIn, startUploadServer, uploadForm, waitForBatch, type UploadServer } from './upload-support.js';
import { passwordOf } from './web-support.js';

/**
 * The batch page's actions in chromium, for an analyst against `serve` (embedded runner): the
 * research file downloaded from a finished batch, its error rows traced again, and a batch that
 * stopped unfinished resumed to its end.
 */
describe('resume, retry and the research file on the batch page, in chromium', () => {
  let web: UploadServer;
  let browser: Browser;
  let finished: string;
  let errorRows: number;

  beforeAll(async () => {
    web = await startUploadServer();
    const cohort = await writeCohort({ ...POPULATION, rows: 20, outDir: path.join(web.dir, 'cohorts'), name: 'actions-cohort' });
    // The simulator's trigger name: these rows get ITK 2200 (not retryable) every time, so end as error.
    const failing = ['L9000001,,FAULT-2200,Ann,1980-01-01,F,LS1 4AP,,', 'L9000002,,FAULT-2200,Bob,1975-06-30,M,LS1 4AP,,'].join('\r\n');
    const csv = `${readFileSync(cohort.csvPath, 'utf8').trimEnd()}\r\n${failing}\r\n`;
    const ann = await signIn(web.url, 'ann');
    const response = await apiUpload(web.url, ann, uploadForm(csv, 'actions-cohort.csv'));
    expect(response.status).toBe(202);
    finished = ((await response.json()) as { id: string }).id;
    const done = await waitForBatch(web.url, ann, finished);
    errorRows = done.byStatus.error ?? 0;
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await web?.close();
  });

  async function signedIn(): Promise<Page> {
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    await signInInBrowser(page, web.url, 'ann', passwordOf('ann'));
    return page;
  }

  it('downloads the research file and traces the error rows again, with no accessibility violations', async () => {
    expect(errorRows).toBe(2);
    const page = await signedIn();
    await page.goto(new URL(`/batches/${finished}`, web.url).href);
    await expectAccessible(page, 'batch-retry-offered');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-research').click()]);
    expect(download.suggestedFilename()).toBe('actions-cohort.research.csv');
    const lines = parse(readFileSync((await download.path())!, 'utf8'), { bom: true }) as string[][];
    expect(lines[0]).toEqual([...RESEARCH_COLUMNS]);
    expect(lines).toHaveLength(23);
    expect(lines.slice(-2).map((l) => l.slice(1))).toEqual([
      ['L9000001', 'error', ''],
      ['L9000002', 'error', ''],
    ]);

    await page.getByRole('button', { name: 'Trace the error rows again' }).click();
    await page.waitForURL((url) => url.pathname === `/batches/${finished}`);
    // The provider fails these rows every time: traced again, still errors, and offered again.
    for (let i = 0; i < 100 && !(await page.getByTestId('retry-state').textContent().catch(() => ''))?.includes('sent again'); i++) {
      await new Promise((r) => setTimeout(r, 200));
      await page.reload();
    }
    expect(await page.getByTestId('retry-state').textContent()).toMatch(/2 rows sent again, 2 still an error/);
    expect(await page.getByRole('button', { name: 'Trace the error rows again' }).count()).toBe(1);
    await expectAccessible(page, 'batch-retried');
  }, 90_000);

  it('resumes a batch that stopped unfinished and shows it done', async () => {
    const { meta } = await interruptedBatch(web, 'ann', 'stopped-cohort', 25);
    await ageBatch(web.dataDir, meta.id, 10 * 60_000);
    const page = await signedIn();
    await page.goto(new URL(`/batches/${meta.id}`, web.url).href);
    expect(await page.textContent('main')).toContain('This batch has stopped');
    await expectAccessible(page, 'batch-resume-offered');
    await page.getByRole('button', { name: 'Resume this batch' }).click();
    await page.waitForURL((url) => url.pathname === `/batches/${meta.id}`);
    // The page follows it live and shows it finished without a reload.
    await page.getByTestId('download-results').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('rows-done').textContent()).toContain('25 done of 25');
    expect(await page.getByRole('button', { name: 'Resume this batch' }).count()).toBe(0);
  }, 90_000);
});
