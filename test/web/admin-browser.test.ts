import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MISUSE_WARNING } from '../../src/cli/session.js';
import { startWebServer, type RunningWebServer } from '../../src/web/start.js';
import { connectTestRedis, deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { expectAccessible, launchChromium, pageProblems, signInInBrowser } from './browser-support.js';
import { dataFolderWithPeople, FAST_SCRYPT, passwordOf, webConfig } from './web-support.js';

/**
 * An administrator in chromium changes a watched folder's settings and the schedules: each page's
 * error summary for a mistake, then the change saved, with no accessibility violation.
 */
describe('folders and schedules administered in chromium', () => {
  let server: RunningWebServer;
  let browser: Browser;
  let redis: Redis;
  let prefix: string;
  let folder: string;
  let schedulesFile: string;

  beforeAll(async () => {
    const { dir, dataDir } = await dataFolderWithPeople();
    folder = path.join(dir, 'watch', 'pas');
    await mkdir(folder, { recursive: true });
    schedulesFile = path.join(dir, 'schedules.json');
    redis = connectTestRedis();
    prefix = uniquePrefix('admin-browser');
    const config = webConfig(dataDir, { PDS_TRACE_WATCH_FOLDERS: folder, PDS_TRACE_SCHEDULES: schedulesFile, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix });
    server = await startWebServer({ config, host: '127.0.0.1', port: 0, trustProxy: false, misuseWarning: MISUSE_WARNING, passwordParams: FAST_SCRYPT });
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await deleteKeys(redis, prefix);
    redis?.disconnect();
  });

  it('corrects a folder\'s settings and the schedules through their error summaries', async () => {
    const page = await (await browser.newContext()).newPage();
    const problems = pageProblems(page);
    await signInInBrowser(page, server.url, 'ada', passwordOf('ada'));

    await page.getByRole('link', { name: 'Folders', exact: true }).click();
    await page.waitForURL((url) => url.pathname === '/admin/folders');
    expect(await page.getByTestId('folder-0-inbox').textContent()).toBe('0');
    await expectAccessible(page, 'admin-folders');

    await page.getByLabel('Traced for (user id)').fill('dr.jones');
    await page.getByLabel('MESH batch trace layout').check();
    await page.getByLabel('Rows per chunk').fill('lots');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.waitForSelector('.nhsuk-error-summary');
    expect(await page.textContent('.nhsuk-error-summary')).toContain('chunkSize');
    await page.locator('.nhsuk-error-summary:focus').waitFor();
    // The link takes the person to the field to correct.
    await page.locator('.nhsuk-error-summary a').first().click();
    await page.locator('#folder-0-chunkSize:focus').waitFor();
    await expectAccessible(page, 'admin-folders-error');

    await page.getByLabel('Rows per chunk').fill('250');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('were saved').waitFor();
    expect(JSON.parse(await readFile(path.join(folder, 'pds-trace.json'), 'utf8'))).toEqual({ for: 'dr.jones', format: 'mesh', chunkSize: 250 });
    await expectAccessible(page, 'admin-folders-saved');

    await page.getByRole('link', { name: 'Schedules', exact: true }).click();
    await page.waitForURL((url) => url.pathname === '/admin/schedules');
    expect(await page.textContent('main')).toContain('There are no schedules yet');
    await expectAccessible(page, 'admin-schedules');

    const schedule = { name: 'pas-nightly', cron: '30 4 * * *', input: 'extracts', out: 'results', owner: 'svc-nightly' };
    await page.getByLabel('Schedules (JSON)').fill(JSON.stringify({ schedules: [{ ...schedule, cron: '30 25 * * *' }, { ...schedule, name: 'Bad Name' }] }, null, 2));
    await page.getByRole('button', { name: 'Save and install' }).click();
    await page.waitForSelector('.nhsuk-error-summary');
    const listed = await page.locator('.nhsuk-error-summary__list li').allTextContents();
    expect(listed.map((t) => t.trim())).toEqual([expect.stringMatching(/^schedule "Bad Name": name: lower-case letters/)]);
    await expectAccessible(page, 'admin-schedules-error');

    await page.getByLabel('Schedules (JSON)').fill(JSON.stringify({ schedules: [schedule] }, null, 2));
    await page.getByRole('button', { name: 'Save and install' }).click();
    await page.getByText('The schedules were saved.').waitFor();
    expect(await page.getByTestId('schedule-changes').textContent()).toContain('Added: pas-nightly');
    expect(await page.getByTestId('schedules').locator('tbody tr').count()).toBe(1);
    expect(await page.getByTestId('schedules').locator('tbody tr td').nth(3).textContent()).toMatch(/\d{4} 04:30 (GMT|BST)/);
    await expectAccessible(page, 'admin-schedules-saved');
    expect(problems).toEqual([]);
  }, 120_000);
});
