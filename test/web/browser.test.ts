import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MISUSE_WARNING } from '../../src/cli/session.js';
import type { BatchMeta } from '../../src/pipeline/batch.js';
import { startWebServer, type RunningWebServer } from '../../src/web/start.js';
import { expectAccessible, launchChromium, pageProblems, signInInBrowser } from './browser-support.js';
import { dataFolderWithPeople, FAST_SCRYPT, passwordOf, tracedBatch, webConfig } from './web-support.js';

/**
 * The web service in a real browser: Debian's chromium (installed by .ci/run; never downloaded)
 * driven by playwright-core against `serve` listening on a free port, over a data folder with
 * users and a batch traced against the simulator. axe-core checks each page.
 */

describe('the web service in chromium', () => {
  let server: RunningWebServer;
  let browser: Browser;
  let batch: BatchMeta;

  beforeAll(async () => {
    const { dir, dataDir } = await dataFolderWithPeople();
    batch = await tracedBatch(dataDir, path.join(dir, 'out'), 'tess', 25);
    server = await startWebServer({ config: webConfig(dataDir), host: '127.0.0.1', port: 0, trustProxy: false, misuseWarning: MISUSE_WARNING, passwordParams: FAST_SCRYPT });
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('signs in, lists the batch, shows it, downloads its results and signs out, with no accessibility violations', async () => {
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    // A CSP refusal, a script error or one of our own files failing to load would show here. (The
    // NHS fonts come from assets.nhs.uk, unreachable from the test machine: not ours to check.)
    const problems = pageProblems(page);
    page.on('requestfailed', (request) => {
      // ERR_ABORTED is the browser dropping a request when the page navigates on (a favicon still
      // loading as a form submits): not a failure of ours; a missing asset shows as a 4xx below.
      const reason = request.failure()?.errorText;
      if (request.url().startsWith(server.url) && reason !== 'net::ERR_ABORTED') problems.push(`${request.url()}: ${reason}`);
    });
    page.on('response', (response) => {
      if (response.url().startsWith(server.url) && response.request().resourceType() !== 'document' && response.status() >= 400) problems.push(`${response.url()}: ${response.status()}`);
    });

    await page.goto(server.url);
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    expect(await page.textContent('main')).toContain(MISUSE_WARNING);
    // The template's inline class switch ran under the nonce, and the NHS.UK frontend's module loaded.
    expect(await page.evaluate('document.body.className')).toContain('nhsuk-frontend-supported');
    await expectAccessible(page, 'sign-in');

    // A wrong password first: the error summary, focused, as the design system prescribes.
    await page.getByLabel('User id').fill('tess');
    await page.getByLabel('Password').fill('not-the-right-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('.nhsuk-error-summary');
    expect(await page.title()).toMatch(/^Error: /);
    await page.locator('.nhsuk-error-summary:focus').waitFor();
    await expectAccessible(page, 'sign-in-error');

    await page.getByLabel('Password').fill(passwordOf('tess'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.pathname === '/batches');
    expect(await page.textContent('header')).toContain('tess');
    expect(await page.textContent('body')).toContain('NHS Confidential');
    const link = page.getByRole('link', { name: 'cohort-tess.csv' });
    await expectAccessible(page, 'batches');

    await link.click();
    await page.waitForURL((url) => url.pathname === `/batches/${batch.id}`);
    expect(await page.textContent('main')).toContain('SIMULATED: not real PDS data');
    expect(await page.textContent('main')).toContain('25 done of 25');
    await expectAccessible(page, 'batch');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-results').click()]);
    expect(download.suggestedFilename()).toBe('cohort-tess.SIMULATED.results.csv');
    expect(await readFile((await download.path())!, 'utf8')).toBe(readFileSync(batch.outputs!.results, 'utf8'));

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.pathname === '/sign-in');
    await page.goto(new URL('/batches', server.url).href);
    expect(new URL(page.url()).pathname).toBe('/sign-in');

    expect(problems).toEqual([]);
    await context.close();
  });

  it("does not let a tracer open another tracer's batch or its results, nor find it in their list", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signInInBrowser(page, server.url, 'tom', passwordOf('tom'));
    expect(await page.textContent('main')).not.toContain('cohort-tess.csv');

    // Not found, as for a batch that does not exist: its id tells tom nothing, not even that it is there.
    const opened = await page.goto(new URL(`/batches/${batch.id}`, server.url).href);
    expect(opened?.status()).toBe(404);
    expect(await page.textContent('h1')).toBe('Page not found');
    expect(await page.textContent('main')).not.toContain('cohort-tess');
    await expectAccessible(page, 'batch-of-another-tracer');
    const results = await page.request.get(new URL(`/api/batches/${batch.id}/results`, server.url).href);
    expect(results.status()).toBe(404);
    expect(await results.text()).not.toContain(',verified,');
    await context.close();
  });
});
