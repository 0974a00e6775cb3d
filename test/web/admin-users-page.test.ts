import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiSignIn, auditTrail, dataFolderWithPeople, passwordOf, webApp, webConfig, type ApiSession, type WebFixture } from './web-support.js';

/** The `/admin/users` and `/account` pages, as a browser's forms use them (no script needed). */

const NEW_PASSWORD = 'a brand new synthetic passphrase';

let dataDir: string;
let web: WebFixture;
let ada: ApiSession;

const trail = () => auditTrail(dataDir);

function page(session: ApiSession, url: string) {
  return web.app.inject({ method: 'GET', url, headers: { cookie: session.cookie } });
}

function submit(session: ApiSession, url: string, fields: Array<[string, string]>, csrf = true) {
  const body = new URLSearchParams(csrf ? [['_csrf', session.csrfToken], ...fields] : fields);
  return web.app.inject({ method: 'POST', url, headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: body.toString() });
}

/** The text of the row of the users table for `id`, tags and all, whitespace collapsed. */
function rowOf(html: string, id: string): string {
  const row = new RegExp(`<tr class="nhsuk-table__row" data-user="${id}">([\\s\\S]*?)</tr>`).exec(html)?.[1] ?? '';
  return row.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
}

/** The error summary's links, as [href, text]. */
function errorLinks(html: string): Array<[string, string]> {
  const summary = /class="nhsuk-error-summary"[\s\S]*?<\/ul>/.exec(html)?.[0] ?? '';
  return [...summary.matchAll(/<a href="([^"]+)">([\s\S]*?)<\/a>/g)].map((m) => [m[1]!, m[2]!.replace(/\s+/g, ' ').trim()]);
}

beforeEach(async () => {
  ({ dataDir } = await dataFolderWithPeople());
  web = await webApp(webConfig(dataDir, { PDS_TRACE_WEB_SIGN_IN_PER_MINUTE: '1000' }));
  ada = await apiSignIn(web.app, 'ada');
});
afterEach(async () => web?.close());

describe('/admin/users', () => {
  it('lists every account with role and state tags, linked from the header for admins only', async () => {
    const response = await page(ada, '/admin/users');
    expect(response.statusCode).toBe(200);
    expect(response.body).toMatch(/class="nhsuk-header__navigation-link" href="\/admin\/users">Users</);
    expect(rowOf(response.body, 'ada')).toMatch(/^ada \(you\) ada Person admin Enabled Change ada/);
    expect(rowOf(response.body, 'aud')).toMatch(/^aud aud Person auditor Enabled/);
    expect(response.body).toContain('<strong class="nhsuk-tag nhsuk-tag--blue">');
    expect(response.body).not.toContain('scrypt');
    const tracerPage = await page(await apiSignIn(web.app, 'tess'), '/batches');
    expect(tracerPage.body).not.toContain('href="/admin/users"');
  });

  it('adds a person, and shows the error summary for a bad id, keeping what was typed but no password', async () => {
    const bad = await submit(ada, '/admin/users', [['action', 'add'], ['id', 'Bad Id'], ['roles', 'tracer'], ['kind', 'person'], ['password', NEW_PASSWORD], ['confirmPassword', NEW_PASSWORD]]);
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('<title>Error: Users');
    expect(errorLinks(bad.body)).toEqual([['#add-id', expect.stringMatching(/^Enter a user id of 1 to 64 lower-case letters/)]]);
    expect(bad.body).toContain('value="Bad Id"');
    expect(bad.body).not.toContain(NEW_PASSWORD);

    const differ = await submit(ada, '/admin/users', [['action', 'add'], ['id', 'newbie'], ['roles', 'tracer'], ['kind', 'person'], ['password', NEW_PASSWORD], ['confirmPassword', 'something else entirely']]);
    expect(errorLinks(differ.body)).toEqual([['#add-confirmPassword', expect.stringMatching(/^The two passwords differ/)]]);

    const mixed = await submit(ada, '/admin/users', [['action', 'add'], ['id', 'newbie'], ['roles', 'auditor'], ['roles', 'tracer'], ['kind', 'person'], ['password', NEW_PASSWORD], ['confirmPassword', NEW_PASSWORD]]);
    expect(errorLinks(mixed.body)).toEqual([['#add-roles', expect.stringMatching(/^The auditor role cannot be combined with another role/)]]);

    const added = await submit(ada, '/admin/users', [['action', 'add'], ['id', 'newbie'], ['displayName', 'New Tracer'], ['roles', 'tracer'], ['roles', 'analyst'], ['kind', 'person'], ['password', NEW_PASSWORD], ['confirmPassword', NEW_PASSWORD]]);
    expect(added.statusCode).toBe(200);
    expect(added.body).toContain('Added newbie (person, tracer, analyst).');
    expect(rowOf(added.body, 'newbie')).toMatch(/^newbie New Tracer Person tracer analyst Enabled/);
    expect((await trail()).at(-1)).toMatchObject({ kind: 'user_changed', user: 'ada', outcome: 'added', detail: 'action=add target=newbie kind=person roles=tracer+analyst' });
  });

  it('shows a new service account’s token on the answer to its add, and never again', async () => {
    const added = await submit(ada, '/admin/users', [['action', 'add'], ['id', 'svc-watch'], ['roles', 'tracer'], ['kind', 'service']]);
    const token = /data-testid="issued-token">(pdst_[\w-]+)</.exec(added.body)?.[1];
    expect(token).toBeDefined();
    expect(added.headers['cache-control']).toBe('no-store');
    expect(rowOf(added.body, 'svc-watch')).toMatch(/^svc-watch svc-watch Service account tracer Enabled/);
    expect((await page(ada, '/admin/users')).body).not.toContain(token!);
    const me = await web.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${token}` } });
    expect(me.statusCode).toBe(200);
  });

  it('disables, enables, changes roles and sets a password from each account’s forms, audited', async () => {
    const disabled = await submit(ada, '/admin/users', [['action', 'disable'], ['id', 'tess']]);
    expect(disabled.body).toContain('tess disabled');
    expect(rowOf(disabled.body, 'tess')).toContain('Disabled');
    expect(disabled.body).toContain('Enable tess');
    expect((await submit(ada, '/admin/users', [['action', 'enable'], ['id', 'tess']])).body).toContain('tess enabled.');
    expect(rowOf((await submit(ada, '/admin/users', [['action', 'roles'], ['id', 'tess'], ['roles', 'analyst']])).body, 'tess')).toContain('analyst Enabled');
    expect((await submit(ada, '/admin/users', [['action', 'password'], ['id', 'tess'], ['password', NEW_PASSWORD], ['confirmPassword', NEW_PASSWORD]])).body).toContain('Password set for tess.');
    const outcomes = (await trail()).filter((e) => ['user_changed', 'role_changed'].includes(e.kind)).map((e) => [e.kind, e.user, e.outcome, e.detail]);
    expect(outcomes).toEqual([
      ['user_changed', 'ada', 'disabled', 'action=disable target=tess'],
      ['user_changed', 'ada', 'enabled', 'action=enable target=tess'],
      ['role_changed', 'ada', 'changed', 'target=tess roles=analyst previous=tracer'],
      ['user_changed', 'ada', 'password_set', 'action=passwd target=tess'],
    ]);
  });

  it('refuses to disable the last admin, with the error summary pointing at that account, opened', async () => {
    const response = await submit(ada, '/admin/users', [['action', 'disable'], ['id', 'ada']]);
    expect(response.statusCode).toBe(409);
    expect(errorLinks(response.body)).toEqual([['#user-ada', 'ada: This would leave no enabled admin to manage users']]);
    expect(response.body).toMatch(/<details class="nhsuk-details" id="user-ada" open>/);
    expect(rowOf(response.body, 'ada')).toContain('Enabled');
  });

  it('refuses a form without the session’s CSRF token, and a role without users.manage', async () => {
    expect((await submit(ada, '/admin/users', [['action', 'disable'], ['id', 'tess']], false)).statusCode).toBe(403);
    const tess = await apiSignIn(web.app, 'tess');
    expect((await page(tess, '/admin/users')).statusCode).toBe(403);
    expect((await submit(tess, '/admin/users', [['action', 'disable'], ['id', 'tom']])).statusCode).toBe(403);
    expect((await trail()).filter((e) => e.kind === 'user_changed')).toEqual([]);
  });
});

describe('/account', () => {
  it('lets any person change their own password, giving the current one, linked from their name in the header', async () => {
    const aud = await apiSignIn(web.app, 'aud');
    const shown = await page(aud, '/account');
    expect(shown.statusCode).toBe(200);
    expect(shown.body).toContain('href="/account"');
    expect(shown.body).toContain('Change your password');

    const wrong = await submit(aud, '/account', [['currentPassword', 'not my password'], ['password', NEW_PASSWORD], ['confirmPassword', NEW_PASSWORD]]);
    expect(wrong.statusCode).toBe(403);
    expect(errorLinks(wrong.body)).toEqual([['#currentPassword', 'Your current password is not right']]);
    const weak = await submit(aud, '/account', [['currentPassword', passwordOf('aud')], ['password', 'short'], ['confirmPassword', 'short']]);
    expect(errorLinks(weak.body)).toEqual([['#password', expect.stringMatching(/^The password is too short/)]]);

    const changed = await submit(aud, '/account', [['currentPassword', passwordOf('aud')], ['password', NEW_PASSWORD], ['confirmPassword', NEW_PASSWORD]]);
    expect(changed.statusCode).toBe(200);
    expect(changed.body).toContain('Your password has been changed.');
    expect((await trail()).at(-1)).toMatchObject({ kind: 'user_changed', user: 'aud', role: 'auditor', outcome: 'password_set', detail: 'action=passwd target=aud' });
    const signIn = await web.app.inject({ method: 'POST', url: '/api/session', payload: { userId: 'aud', password: NEW_PASSWORD } });
    expect(signIn.statusCode).toBe(200);
  });
});
