import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MISUSE_WARNING } from '../../src/cli/session.js';
import { startWebServer, type RunningWebServer } from '../../src/web/start.js';
import { recordedUsers } from '../support/accounts.js';
import { expectAccessible, launchChromium, pageProblems, signInInBrowser } from './browser-support.js';
import { dataFolderWithPeople, FAST_SCRYPT, passwordOf, webConfig } from './web-support.js';

/**
 * The admin's user administration in chromium against `serve`: sign in, add a person, the error
 * summary for a bad id (focused, linking to the field), disable a user, and each page through axe.
 */
describe('user administration in chromium', () => {
  let server: RunningWebServer;
  let browser: Browser;
  let dataDir: string;

  beforeAll(async () => {
    ({ dataDir } = await dataFolderWithPeople());
    server = await startWebServer({ config: webConfig(dataDir), host: '127.0.0.1', port: 0, trustProxy: false, misuseWarning: MISUSE_WARNING, passwordParams: FAST_SCRYPT });
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('adds a user, shows the error summary for a bad id, disables a user, with no accessibility violations', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems = pageProblems(page);
    await signInInBrowser(page, server.url, 'ada', passwordOf('ada'));

    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await page.waitForURL((url) => url.pathname === '/admin/users');
    expect(await page.getByTestId('users').locator('tbody tr').count()).toBe(6);
    await expectAccessible(page, 'admin-users');

    // A bad id: the error summary, focused, its link going to the field, what was typed kept.
    const addForm = page.getByTestId('add-user');
    await addForm.getByLabel('User id').fill('Ann Smith');
    await addForm.getByLabel('analyst').check();
    await addForm.getByLabel('A person, who signs in with a password').check();
    await addForm.getByLabel('Password', { exact: true }).fill('a synthetic new passphrase');
    await addForm.getByLabel('The same password again').fill('a synthetic new passphrase');
    await page.getByRole('button', { name: 'Add user' }).click();
    await page.waitForSelector('.nhsuk-error-summary');
    await page.locator('.nhsuk-error-summary:focus').waitFor();
    expect(await page.textContent('.nhsuk-error-summary')).toContain('Enter a user id of 1 to 64 lower-case letters');
    expect(await page.title()).toMatch(/^Error: Users/);
    await page.locator('.nhsuk-error-summary a').click();
    expect(await page.evaluate('document.activeElement?.id')).toBe('add-id');
    expect(await page.inputValue('#add-id')).toBe('Ann Smith');
    await expectAccessible(page, 'admin-users-error');

    await page.fill('#add-id', 'ann.smith');
    // The password fields are not sent back: typed again.
    await addForm.getByLabel('A person, who signs in with a password').check();
    await addForm.getByLabel('Password', { exact: true }).fill('a synthetic new passphrase');
    await addForm.getByLabel('The same password again').fill('a synthetic new passphrase');
    await page.getByRole('button', { name: 'Add user' }).click();
    await page.getByTestId('done').waitFor();
    expect(await page.getByTestId('done').textContent()).toContain('Added ann.smith (person, analyst).');
    expect(await page.locator('tr[data-user="ann.smith"]').textContent()).toContain('analyst');

    // Disable tess from her row's actions.
    const row = page.locator('tr[data-user="tess"]');
    await row.getByText('Change').click();
    await row.getByRole('button', { name: 'Disable tess' }).click();
    await page.getByTestId('done').waitFor();
    expect(await page.locator('tr[data-user="tess"] [data-testid="state"]').textContent()).toContain('Disabled');
    await expectAccessible(page, 'admin-users-disabled');

    const users = await (await recordedUsers(dataDir)).list();
    expect(users.find((u) => u.id === 'tess')).toMatchObject({ disabled: true });
    expect(users.find((u) => u.id === 'ann.smith')).toMatchObject({ roles: ['analyst'], kind: 'person', disabled: false });

    // Everyone's own account, from their name in the header.
    await page.getByRole('link', { name: /^ada \(admin\)/ }).click();
    await page.waitForURL((url) => url.pathname === '/account');
    await expectAccessible(page, 'account');
    expect(problems).toEqual([]);
    await context.close();
  }, 120_000);
});
