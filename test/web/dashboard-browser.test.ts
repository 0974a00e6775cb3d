import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MISUSE_WARNING } from '../../src/cli/session.js';
import { startWebServer, type RunningWebServer } from '../../src/web/start.js';
import { traceThroughQueues, type QueuedBatch } from '../metrics/queued-batch.js';
import { TEST_REDIS_URL } from '../support/redis.js';
import { launchChromium, pageProblems, signInInBrowser } from './browser-support.js';
import { dataFolderWithPeople, FAST_SCRYPT, passwordOf, webConfig } from './web-support.js';

/**
 * The queue dashboard in Debian's chromium (never downloaded): bull-board's page must work under
 * the narrow CSP of its prefix, and show an operator's controls only to someone who may use them.
 */

/** bull-board's page asks Google for a web font; our CSP refuses it on purpose (dashboard-access.ts). */
const REFUSED_ON_PURPOSE = /fonts\.googleapis\.com/;

describe('the queue dashboard in chromium', () => {
  let batch: QueuedBatch;
  let server: RunningWebServer;
  let browser: Browser;

  beforeAll(async () => {
    batch = await traceThroughQueues({ name: 'board-browser', rows: 10, wayIn: 'cli' });
    const { dataDir } = await dataFolderWithPeople();
    const config = webConfig(dataDir, { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: batch.prefix });
    server = await startWebServer({ config, host: '127.0.0.1', port: 0, trustProxy: false, misuseWarning: MISUSE_WARNING, passwordParams: FAST_SCRYPT });
    browser = await launchChromium();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await batch?.close();
  });

  async function signedInBoard(id: string): Promise<{ page: Page; problems: string[] }> {
    const page = await (await browser.newContext()).newPage();
    const problems = pageProblems(page, REFUSED_ON_PURPOSE);
    page.on('response', (response) => {
      if (response.url().startsWith(server.url) && response.status() >= 400) problems.push(`${response.url()}: ${response.status()}`);
    });
    await signInInBrowser(page, server.url, id, passwordOf(id));
    await page.goto(new URL('/admin/dashboard/queue/trace', server.url).href);
    await page.getByText('pds-trace queues').first().waitFor({ timeout: 30_000 });
    return { page, problems };
  }

  it('renders the queues under its CSP, read-only for an admin and with the controls for an operator', async () => {
    const admin = await signedInBoard('ada');
    for (const queue of ['ingest', 'trace', 'assemble', 'schedule']) await admin.page.getByText(queue, { exact: true }).first().waitFor();
    expect(admin.problems).toEqual([]);

    const operator = await signedInBoard('otto');
    // The queue's own menu (pause, clean, …) is offered to the operator only.
    const menus = (page: Page) => page.locator('button[aria-haspopup="menu"]');
    await menus(operator.page).nth(1).waitFor({ timeout: 30_000 });
    expect(await menus(admin.page).count()).toBe(1);
    await menus(operator.page).last().click();
    await operator.page.getByRole('menuitem', { name: /pause/i }).click();
    await operator.page.getByRole('button', { name: 'Confirm' }).click();
    // Sent by bull-board's own page, through the access hook and the CSRF check, to Redis.
    const deadline = Date.now() + 30_000;
    while (!(await batch.queues.trace.isPaused()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await batch.queues.trace.isPaused()).toBe(true);
    await batch.queues.trace.resume();
    expect(operator.problems).toEqual([]);
  }, 120_000);
});
