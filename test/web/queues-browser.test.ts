import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MISUSE_WARNING } from '../../src/cli/session.js';
import { openScheduleQueue } from '../../src/intake/schedules/schedule-queue.js';
import { openQueues, type PipelineQueues } from '../../src/pipeline/queues.js';
import { startWebServer, type RunningWebServer } from '../../src/web/start.js';
import { connectTestRedis, deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { expectAccessible, launchChromium, pageProblems, signInInBrowser } from './browser-support.js';
import { failedJobs } from './queue-jobs.js';
import { dataFolderWithPeople, FAST_SCRYPT, passwordOf, webConfig } from './web-support.js';

/**
 * The queues page in Debian's chromium, as an operator reaches it from the header: the queues as
 * they stand, kept up to date by its script under the CSP (no reload), no accessibility violation,
 * and the queue dashboard one link away.
 */
describe('the queues page in chromium', () => {
  const prefix = uniquePrefix('web-queues-browser');
  let redis: Redis;
  let pipeline: PipelineQueues;
  let schedule: Queue;
  let server: RunningWebServer;
  let browser: Browser;

  beforeAll(async () => {
    redis = connectTestRedis();
    pipeline = openQueues(redis, prefix);
    schedule = openScheduleQueue(redis, prefix);
    await failedJobs(pipeline.ingest, [{ jobId: 'ingest-a', data: { batchId: 'b-a' } }]);
    await schedule.pause();
    await schedule.add('scheduled-run', { schedule: 'nightly', slot: 1 }, { jobId: 'run-1' });
    const { dataDir } = await dataFolderWithPeople();
    const config = webConfig(dataDir, { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix });
    server = await startWebServer({ config, host: '127.0.0.1', port: 0, trustProxy: false, misuseWarning: MISUSE_WARNING, passwordParams: FAST_SCRYPT });
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await pipeline?.close();
    await schedule?.close();
    await deleteKeys(redis, prefix);
    redis?.disconnect();
  });

  async function signedIn(url: string, id: string) {
    const page = await (await browser.newContext()).newPage();
    await signInInBrowser(page, url, id, passwordOf(id));
    return page;
  }

  it('says to an admin, without REDIS_URL, that uploads are traced in the server, with no accessibility violations', async () => {
    const { dataDir } = await dataFolderWithPeople();
    const embedded = await startWebServer({ config: webConfig(dataDir), host: '127.0.0.1', port: 0, trustProxy: false, misuseWarning: MISUSE_WARNING, passwordParams: FAST_SCRYPT });
    try {
      const page = await signedIn(embedded.url, 'ada');
      await page.getByRole('link', { name: 'Queues', exact: true }).click();
      await page.waitForURL((url) => url.pathname === '/queues');
      expect(await page.getByTestId('embedded').textContent()).toContain('REDIS_URL is not set');
      await expectAccessible(page, 'queues-embedded');
    } finally {
      await embedded.close();
    }
  }, 60_000);

  it('shows an operator the queues from the header, follows them without a reload, and links to the dashboard', async () => {
    const page = await signedIn(server.url, 'otto');
    const problems = pageProblems(page);

    await page.getByRole('link', { name: 'Queues', exact: true }).click();
    await page.waitForURL((url) => url.pathname === '/queues');
    const cell = (queue: string, field: string) => page.locator(`[data-queue="${queue}"] [data-count="${field}"], [data-queue="${queue}"] [data-field="${field}"]`);
    expect(await cell('ingest', 'failed').textContent()).toBe('1');
    expect((await cell('schedule', 'state').textContent())?.trim()).toBe('Paused');
    expect(await cell('schedule', 'paused').textContent()).toBe('1');
    await expectAccessible(page, 'queues');

    // Changed behind the page's back: its script shows it at its next look, with no reload.
    let reloaded = false;
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) reloaded = true;
    });
    await pipeline.trace.add('trace', { batchId: 'b-t', chunk: 0 }, { jobId: 'trace-0' });
    await schedule.resume();
    await page.locator('[data-queue="trace"] [data-count="waiting"]', { hasText: /^1$/ }).waitFor({ timeout: 15_000 });
    await page.locator('[data-queue="schedule"] [data-field="state"]', { hasText: 'No worker' }).waitFor({ timeout: 15_000 });
    expect(await cell('schedule', 'waiting').textContent()).toBe('1');
    expect(reloaded).toBe(false);
    expect(problems).toEqual([]);

    // bull-board's page is its own (and its Google font refused on purpose: dashboard-browser.test.ts).
    await page.getByRole('link', { name: 'Open the queue dashboard' }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/admin/dashboard'));
    await page.getByText('pds-trace queues').first().waitFor({ timeout: 30_000 });
  }, 90_000);
});
