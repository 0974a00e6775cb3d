import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAuditStore } from '../../src/audit/store.js';
import type { AuditStore } from '../../src/audit/store.js';
import { MISUSE_WARNING } from '../../src/cli/session.js';
import { startWebServer, type RunningWebServer } from '../../src/web/start.js';
import { freePort } from '../support/ports.js';
import { expectAccessible, launchChromium, pageProblems } from './browser-support.js';
import { startLiveTracer, type LiveTracer } from './live-trace.js';
import { dataFolderWithPeople, FAST_SCRYPT, passwordOf, webConfig } from './web-support.js';

/**
 * The batch page following a batch live in chromium, through a restart of the server, to its
 * results without a reload; and the auditor's page. The batch is submitted through the intake
 * directly (the upload page is another journey's) and traced in this process against the simulator.
 */
describe('live progress and the audit page in chromium', () => {
  let dir: string;
  let dataDir: string;
  let port: number;
  let server: RunningWebServer;
  let browser: Browser;
  let tracer: LiveTracer;
  let audit: AuditStore;

  const start = () => startWebServer({ config: webConfig(dataDir), host: '127.0.0.1', port, trustProxy: false, misuseWarning: MISUSE_WARNING, passwordParams: FAST_SCRYPT });

  beforeAll(async () => {
    ({ dir, dataDir } = await dataFolderWithPeople());
    audit = await openAuditStore({ dataDir });
    tracer = await startLiveTracer(audit, 30);
    port = await freePort();
    server = await start();
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await tracer?.close();
    await audit?.close();
  });

  /**
   * Signs in and waits only to leave the sign-in page, not for a landing page (signInInBrowser's):
   * the auditor's test asserts where an auditor lands. Returns the page's problems, to expect empty.
   */
  async function signIn(page: Page, userId: string): Promise<string[]> {
    const problems = pageProblems(page);
    await page.goto(`http://127.0.0.1:${port}/sign-in`);
    await page.getByLabel('User id').fill(userId);
    await page.getByLabel('Password').fill(passwordOf(userId));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.pathname !== '/sign-in');
    return problems;
  }

  /** Polls from here (the page's CSP forbids the string evaluation waitForFunction needs) until `ok`. */
  async function until(what: string, ok: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await ok())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const rowsDone = async (page: Page) => Number(((await page.getByTestId('rows-done').textContent()) ?? '').replace(/,/g, '').split(' ')[0]);

  it('follows a batch to done without a reload, through a server restart, then shows its outcomes and files', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems = await signIn(page, 'tess');
    const rows = 240;
    const { batch, run } = await tracer.trace({ dataDir, outDir: path.join(dir, 'out'), user: 'tess', rows, name: 'cohort-browser' });
    await page.goto(`http://127.0.0.1:${port}/batches/${batch.id}`);
    // Marks this document: a reload would lose it.
    await page.evaluate('window.__sameDocument = true');
    expect(await page.getByTestId('refresh').isHidden()).toBe(true);
    await until('rows part-way', async () => {
      const n = await rowsDone(page);
      return n > 0 && n < rows;
    });
    const seen = await rowsDone(page);
    expect(await page.textContent('[data-testid=stage]')).toContain('Tracing with PDS');
    await expectAccessible(page, 'batch-progress');

    // The server goes away mid-batch and comes back on the same address: the page reconnects.
    await server.close();
    server = await start();
    await until('rows after the restart', async () => (await rowsDone(page)) > seen);

    await run.finished;
    await page.getByRole('heading', { name: 'Outcomes' }).waitFor({ timeout: 60_000 });
    expect(await page.evaluate('window.__sameDocument')).toBe(true);
    expect(await rowsDone(page)).toBe(rows);
    expect(await page.textContent('[data-testid=stage]')).toContain('Done');
    for (const kind of ['results', 'audit', 'summary-json', 'summary-html', 'back-office', 'discrepancies']) {
      expect(await page.getByTestId(`download-${kind}`).count(), kind).toBe(1);
    }
    expect(await page.getByTestId('rates').count()).toBe(1);
    await expectAccessible(page, 'batch-done');
    expect(problems).toEqual([]);
    await context.close();
  }, 180_000);

  it("gives an auditor the audit page to search and verify the trail, and no batches or results", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems = await signIn(page, 'aud');
    // An auditor lands on the audit page, and the header offers nothing else.
    expect(new URL(page.url()).pathname).toBe('/audit');
    expect(await page.getByRole('link', { name: 'Batches' }).count()).toBe(0);
    await expectAccessible(page, 'audit');

    const [batchId] = (await audit.search({ kind: 'batch_submitted' })).map((e) => e.batchId!);
    await page.getByLabel('Batch id').fill(batchId!);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByTestId('audit-events').waitFor();
    expect(await page.textContent('#results')).toMatch(/\d+ events? found/);
    await expectAccessible(page, 'audit-search');

    await page.getByRole('button', { name: 'Check the trail' }).click();
    await page.getByTestId('verify-result').waitFor();
    expect(await page.textContent('[data-testid=verify-result]')).toContain('The trail is intact');
    await expectAccessible(page, 'audit-verify');

    const response = await page.goto(`http://127.0.0.1:${port}/batches/${batchId}`);
    expect(response?.status()).toBe(403);
    expect(await page.textContent('main')).not.toContain('cohort-browser');
    expect(problems).toEqual([]);
    await context.close();
  }, 120_000);
});
