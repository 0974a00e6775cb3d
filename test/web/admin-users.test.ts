import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/audit/event.js';
import { LOCKOUT_THRESHOLD } from '../../src/auth/authenticate.js';
import { runCli } from '../auth/cli-harness.js';
import { apiSignIn, auditTrail, dataFolderWithPeople, passwordOf, webApp, webConfig, type ApiSession, type WebFixture } from './web-support.js';

/**
 * `GET /api/users`, `POST /api/users`, `PATCH /api/users/:id`: `pds-trace users` for scripts, with
 * the CLI's rules, store and audit events, and a person's own password for anyone.
 */

const NEW_PASSWORD = 'a brand new synthetic passphrase';

let dataDir: string;
let web: WebFixture;
let ada: ApiSession;

const trail = () => auditTrail(dataDir);

/** Events appended while `action` ran. */
async function eventsDuring(action: () => Promise<unknown>): Promise<AuditEvent[]> {
  const before = (await trail()).length;
  await action();
  return (await trail()).slice(before);
}

function call(session: ApiSession | undefined, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) {
  const headers = session ? { cookie: session.cookie, 'x-csrf-token': session.csrfToken } : {};
  return web.app.inject({ method, url, headers, ...(payload ? { payload } : {}) });
}

async function listed(): Promise<Array<Record<string, unknown>>> {
  const response = await call(ada, 'GET', '/api/users');
  expect(response.statusCode).toBe(200);
  return (response.json() as { users: Array<Record<string, unknown>> }).users;
}

async function canSignIn(userId: string, password: string): Promise<boolean> {
  const response = await web.app.inject({ method: 'POST', url: '/api/session', payload: { userId, password } });
  return response.statusCode === 200;
}

beforeEach(async () => {
  ({ dataDir } = await dataFolderWithPeople());
  web = await webApp(webConfig(dataDir, { PDS_TRACE_WEB_SIGN_IN_PER_MINUTE: '1000' }));
  ada = await apiSignIn(web.app, 'ada');
});
afterEach(async () => web?.close());

describe('GET /api/users', () => {
  it('lists every account with kind, roles and state, and no password or token hash', async () => {
    const response = await call(ada, 'GET', '/api/users');
    expect(response.headers['cache-control']).toBe('no-store');
    const users = (response.json() as { users: Array<Record<string, unknown>> }).users;
    expect(users.map((u) => [u.id, u.kind, u.roles, u.state, u.disabled, u.lockedUntil])).toEqual([
      ['ada', 'person', ['admin'], 'enabled', false, null],
      ['tess', 'person', ['tracer'], 'enabled', false, null],
      ['tom', 'person', ['tracer'], 'enabled', false, null],
      ['ann', 'person', ['analyst'], 'enabled', false, null],
      ['aud', 'person', ['auditor'], 'enabled', false, null],
      ['otto', 'person', ['operator'], 'enabled', false, null],
    ]);
    expect(response.body).not.toMatch(/scrypt|passwordHash|tokenHash/);
  });

  it('is refused to every role without users.manage, audited', async () => {
    for (const id of ['tess', 'ann', 'aud', 'otto']) {
      const response = await call(await apiSignIn(web.app, id), 'GET', '/api/users');
      expect(response.statusCode, id).toBe(403);
      expect(response.json()).toMatchObject({ code: 'forbidden' });
    }
    expect((await trail()).filter((e) => e.kind === 'access_denied').map((e) => e.user)).toEqual(['tess', 'ann', 'aud', 'otto']);
  });
});

describe('POST /api/users', () => {
  it('adds a person who can then sign in, recorded as the CLI records it', async () => {
    let response!: Awaited<ReturnType<typeof call>>;
    const events = await eventsDuring(async () => {
      response = await call(ada, 'POST', '/api/users', { id: 'newbie', roles: ['analyst'], password: NEW_PASSWORD, displayName: 'New Analyst' });
    });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({ user: { id: 'newbie', kind: 'person', roles: ['analyst'], displayName: 'New Analyst', state: 'enabled' } });
    expect(response.json()).not.toHaveProperty('token');
    expect(events.map((e) => [e.kind, e.user, e.role, e.outcome])).toEqual([
      ['user_store_changed', 'ada', 'admin', 'recorded'],
      ['user_changed', 'ada', 'admin', 'added'],
    ]);
    expect(events[0]!.detail).toMatch(/^sha256=[0-9a-f]{64} change=added target=newbie$/);
    expect(events[1]!.detail).toBe('action=add target=newbie kind=person roles=analyst');
    expect(JSON.stringify(await trail())).not.toContain(NEW_PASSWORD);
    expect(await canSignIn('newbie', NEW_PASSWORD)).toBe(true);
  });

  it('gives a service account a token once: kept only as its hash, never listed, and it works as a bearer token', async () => {
    const response = await call(ada, 'POST', '/api/users', { id: 'svc-nightly', roles: ['tracer', 'operator'], kind: 'service' });
    expect(response.statusCode).toBe(201);
    expect(response.headers['cache-control']).toBe('no-store');
    const { token, user } = response.json() as { token: string; user: { kind: string } };
    expect(user.kind).toBe('service');
    expect(token).toMatch(/^pdst_[A-Za-z0-9_-]{43}$/);
    expect(await readFile(path.join(dataDir, 'users.json'), 'utf8')).not.toContain(token);
    expect(JSON.stringify(await trail())).not.toContain(token);
    expect((await call(ada, 'GET', '/api/users')).body).not.toContain(token);
    const me = await web.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${token}` } });
    expect(me.json()).toEqual({ userId: 'svc-nightly', roles: ['tracer', 'operator'], kind: 'service' });
    // A token is not a password: no sign-in with it.
    expect(await canSignIn('svc-nightly', token)).toBe(false);
  });

  it.each([
    ['an id out of pattern', { id: 'Not Valid!', roles: ['tracer'], password: NEW_PASSWORD }, 400, 'invalid_user'],
    ['an id taken', { id: 'tess', roles: ['tracer'], password: NEW_PASSWORD }, 409, 'user_exists'],
    ['no role', { id: 'newbie', roles: [], password: NEW_PASSWORD }, 400, 'invalid_roles'],
    ['a role pds-trace does not have', { id: 'newbie', roles: ['superuser'], password: NEW_PASSWORD }, 400, 'invalid_roles'],
    ['auditor with another role', { id: 'newbie', roles: ['auditor', 'tracer'], password: NEW_PASSWORD }, 400, 'exclusive_role'],
    ['a service account as admin', { id: 'svc-x', roles: ['admin'], kind: 'service' }, 400, 'service_role'],
    ['a service account with a password', { id: 'svc-x', roles: ['tracer'], kind: 'service', password: NEW_PASSWORD }, 400, 'wrong_kind'],
    ['a short password', { id: 'newbie', roles: ['tracer'], password: 'too short' }, 400, 'weak_password'],
    ['a person without a password', { id: 'newbie', roles: ['tracer'] }, 400, 'weak_password'],
    ['a hash slipped in', { id: 'newbie', roles: ['tracer'], password: NEW_PASSWORD, passwordHash: 'scrypt$N=2,r=1,p=1$AA==$AA==' }, 400, 'bad_request'],
    ['roles as a string', { id: 'newbie', roles: 'tracer', password: NEW_PASSWORD }, 400, 'bad_request'],
  ])('refuses %s, adding nobody', async (_label, body, status, code) => {
    const before = await listed();
    const response = await call(ada, 'POST', '/api/users', body);
    expect(response.statusCode).toBe(status);
    expect(response.json()).toMatchObject({ code });
    expect(response.body).not.toContain(NEW_PASSWORD);
    expect(await listed()).toEqual(before);
  });

  it('needs the session’s CSRF token', async () => {
    const response = await web.app.inject({ method: 'POST', url: '/api/users', headers: { cookie: ada.cookie }, payload: { id: 'newbie', roles: ['tracer'], password: NEW_PASSWORD } });
    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({ code: 'csrf_invalid' });
  });
});

describe('PATCH /api/users/:id by an admin', () => {
  it('changes roles with a role_changed event naming old and new, which the user’s next request sees', async () => {
    const tess = await apiSignIn(web.app, 'tess');
    const events = await eventsDuring(async () => {
      const response = await call(ada, 'PATCH', '/api/users/tess', { roles: ['analyst'] });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ user: { id: 'tess', roles: ['analyst'] } });
    });
    expect(events.at(-1)).toMatchObject({ kind: 'role_changed', user: 'ada', role: 'admin', outcome: 'changed', detail: 'target=tess roles=analyst previous=tracer' });
    expect((await call(tess, 'GET', '/api/me')).json()).toMatchObject({ roles: ['analyst'] });
  });

  it('keeps auditor exclusive and service accounts off admin', async () => {
    expect((await call(ada, 'PATCH', '/api/users/aud', { roles: ['auditor', 'operator'] })).json()).toMatchObject({ code: 'exclusive_role' });
    await call(ada, 'POST', '/api/users', { id: 'svc-x', roles: ['tracer'], kind: 'service' });
    expect((await call(ada, 'PATCH', '/api/users/svc-x', { roles: ['admin'] })).json()).toMatchObject({ code: 'service_role' });
    expect((await listed()).filter((u) => u.id === 'aud' || u.id === 'svc-x').map((u) => u.roles)).toEqual([['auditor'], ['tracer']]);
  });

  it('refuses to disable the last admin or take their role, until there is another', async () => {
    for (const change of [{ disabled: true }, { roles: ['operator'] }]) {
      const response = await call(ada, 'PATCH', '/api/users/ada', change);
      expect(response.statusCode).toBe(409);
      expect(response.json()).toMatchObject({ code: 'last_admin' });
    }
    await call(ada, 'POST', '/api/users', { id: 'ada2', roles: ['admin'], password: NEW_PASSWORD });
    expect((await call(ada, 'PATCH', '/api/users/ada', { roles: ['operator'] })).statusCode).toBe(200);
  });

  it('disables a user, whose session ends at once, and enables them again, each audited', async () => {
    const tess = await apiSignIn(web.app, 'tess');
    const events = await eventsDuring(async () => {
      expect((await call(ada, 'PATCH', '/api/users/tess', { disabled: true })).json()).toMatchObject({ user: { state: 'disabled', disabled: true } });
      expect((await call(tess, 'GET', '/api/me')).statusCode).toBe(401);
      expect(await canSignIn('tess', passwordOf('tess'))).toBe(false);
      expect((await call(ada, 'PATCH', '/api/users/tess', { disabled: false })).json()).toMatchObject({ user: { state: 'enabled' }, lockoutLifted: false });
    });
    const changes = events.filter((e) => e.kind === 'user_changed').map((e) => [e.user, e.outcome, e.detail]);
    expect(changes).toEqual([
      ['ada', 'disabled', 'action=disable target=tess'],
      ['ada', 'enabled', 'action=enable target=tess'],
    ]);
    expect(await canSignIn('tess', passwordOf('tess'))).toBe(true);
  });

  it('lifts a lockout on unlock, audited as lockout_lifted, without enabling a disabled account', async () => {
    for (let i = 0; i < LOCKOUT_THRESHOLD; i++) expect(await canSignIn('tom', `wrong guess ${i}`)).toBe(false);
    const locked = (await listed()).find((u) => u.id === 'tom')!;
    expect(locked).toMatchObject({ state: 'locked', failedAttempts: LOCKOUT_THRESHOLD });
    expect(Date.parse(locked.lockedUntil as string)).toBeGreaterThan(Date.now());
    expect(await canSignIn('tom', passwordOf('tom'))).toBe(false);

    const events = await eventsDuring(async () => {
      const response = await call(ada, 'PATCH', '/api/users/tom', { unlock: true });
      expect(response.json()).toMatchObject({ user: { state: 'enabled', lockedUntil: null, failedAttempts: 0 }, lockoutLifted: true });
    });
    expect(events.map((e) => [e.kind, e.user, e.detail?.replace(/sha256=\w+ /, '')])).toEqual([
      ['user_store_changed', 'ada', 'change=lockout_lifted target=tom'],
      ['lockout_lifted', 'ada', 'action=unlock target=tom'],
    ]);
    expect(await canSignIn('tom', passwordOf('tom'))).toBe(true);

    // A disabled account that is locked stays disabled when unlocked.
    for (let i = 0; i < LOCKOUT_THRESHOLD; i++) await canSignIn('ann', `wrong guess ${i}`);
    await call(ada, 'PATCH', '/api/users/ann', { disabled: true });
    expect((await call(ada, 'PATCH', '/api/users/ann', { unlock: true })).json()).toMatchObject({ user: { state: 'disabled', failedAttempts: 0 }, lockoutLifted: true });
    expect(await canSignIn('ann', passwordOf('ann'))).toBe(false);
  });

  it('sets another person’s password without theirs, and replaces a service token so the old one stops working', async () => {
    const events = await eventsDuring(async () => expect((await call(ada, 'PATCH', '/api/users/tess', { password: NEW_PASSWORD })).statusCode).toBe(200));
    expect(events.at(-1)).toMatchObject({ kind: 'user_changed', user: 'ada', outcome: 'password_set', detail: 'action=passwd target=tess' });
    expect(await canSignIn('tess', passwordOf('tess'))).toBe(false);
    expect(await canSignIn('tess', NEW_PASSWORD)).toBe(true);
    expect((await call(ada, 'PATCH', '/api/users/tess', { password: 'short' })).json()).toMatchObject({ code: 'weak_password' });

    const { token: first } = (await call(ada, 'POST', '/api/users', { id: 'svc-x', roles: ['tracer'], kind: 'service' })).json() as { token: string };
    expect((await call(ada, 'PATCH', '/api/users/svc-x', { password: NEW_PASSWORD })).json()).toMatchObject({ code: 'wrong_kind' });
    const replaced = await call(ada, 'PATCH', '/api/users/svc-x', { replaceToken: true });
    const { token: second } = replaced.json() as { token: string };
    expect(second).toMatch(/^pdst_/);
    expect(second).not.toBe(first);
    expect((await trail()).at(-1)).toMatchObject({ kind: 'user_changed', outcome: 'token_replaced', detail: 'action=passwd target=svc-x' });
    const me = (token: string) => web.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${token}` } });
    expect((await me(first)).statusCode).toBe(401);
    expect((await me(second)).statusCode).toBe(200);
  });

  it('asks an admin changing their own password for the current one too', async () => {
    expect((await call(ada, 'PATCH', '/api/users/ada', { password: NEW_PASSWORD })).json()).toMatchObject({ code: 'current_password_required' });
    expect((await call(ada, 'PATCH', '/api/users/ada', { password: NEW_PASSWORD, currentPassword: passwordOf('ada') })).statusCode).toBe(200);
    expect(await canSignIn('ada', NEW_PASSWORD)).toBe(true);
  });

  it('checks every change asked for before making any', async () => {
    const events = await eventsDuring(async () => {
      const response = await call(ada, 'PATCH', '/api/users/tess', { password: NEW_PASSWORD, roles: ['auditor', 'tracer'] });
      expect(response.json()).toMatchObject({ code: 'exclusive_role' });
      expect((await call(ada, 'PATCH', '/api/users/tess', { roles: ['analyst'], password: 'short' })).json()).toMatchObject({ code: 'weak_password' });
    });
    expect(events).toEqual([]);
    expect(await canSignIn('tess', passwordOf('tess'))).toBe(true);
    expect((await listed()).find((u) => u.id === 'tess')).toMatchObject({ roles: ['tracer'] });
  });

  it('answers 404 for an unknown id and 400 for an unknown field', async () => {
    const unknown = await call(ada, 'PATCH', '/api/users/nobody', { disabled: true });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'not_found' });
    const field = await call(ada, 'PATCH', '/api/users/tess', { kind: 'service' });
    expect(field.statusCode).toBe(400);
    expect(field.json()).toMatchObject({ code: 'bad_request' });
  });
});

describe('PATCH /api/users/:id without users.manage', () => {
  let tess: ApiSession;
  beforeEach(async () => {
    tess = await apiSignIn(web.app, 'tess');
  });

  it('lets a person change their own password, giving the current one, recorded as theirs', async () => {
    expect((await call(tess, 'PATCH', '/api/users/tess', { password: NEW_PASSWORD })).json()).toMatchObject({ code: 'current_password_required' });
    const wrong = await eventsDuring(async () => {
      const response = await call(tess, 'PATCH', '/api/users/tess', { password: NEW_PASSWORD, currentPassword: 'not my password' });
      expect(response.statusCode).toBe(403);
      expect(response.json()).toMatchObject({ code: 'current_password_wrong' });
    });
    // A wrong current password is a failed sign-in: it counts towards the lockout.
    expect(wrong.map((e) => [e.kind, e.user, e.outcome])).toEqual([
      ['user_store_changed', 'tess', 'recorded'],
      ['sign_in_failed', 'tess', 'bad_password'],
    ]);
    expect((await call(tess, 'PATCH', '/api/users/tess', { password: 'short', currentPassword: passwordOf('tess') })).json()).toMatchObject({ code: 'weak_password' });

    const events = await eventsDuring(async () => {
      const response = await call(tess, 'PATCH', '/api/users/tess', { password: NEW_PASSWORD, currentPassword: passwordOf('tess') });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ user: { id: 'tess', roles: ['tracer'] } });
    });
    expect(events.at(-1)).toMatchObject({ kind: 'user_changed', user: 'tess', role: 'tracer', outcome: 'password_set', detail: 'action=passwd target=tess' });
    expect(await canSignIn('tess', NEW_PASSWORD)).toBe(true);
    expect(await canSignIn('tess', passwordOf('tess'))).toBe(false);
  });

  it('refuses anything else on their own account, audited', async () => {
    for (const change of [{ roles: ['admin'] }, { disabled: false }, { unlock: true }, { password: NEW_PASSWORD, currentPassword: passwordOf('tess'), roles: ['admin'] }, {}]) {
      const response = await call(tess, 'PATCH', '/api/users/tess', change);
      expect(response.statusCode, JSON.stringify(change)).toBe(403);
      expect(response.json()).toMatchObject({ code: 'forbidden' });
    }
    const denied = (await trail()).filter((e) => e.kind === 'access_denied');
    expect(denied).toHaveLength(5);
    expect(denied[0]).toMatchObject({ user: 'tess', role: 'tracer', detail: 'web=PATCH /api/users/:id target=tess' });
    expect((await listed()).find((u) => u.id === 'tess')).toMatchObject({ roles: ['tracer'] });
    expect(await canSignIn('tess', passwordOf('tess'))).toBe(true);
  });

  it('answers another account, existing or not, as not found, and changes nothing', async () => {
    for (const id of ['tom', 'ada', 'nobody']) {
      const response = await call(tess, 'PATCH', `/api/users/${id}`, { password: NEW_PASSWORD, currentPassword: passwordOf('tess') });
      expect(response.statusCode, id).toBe(404);
      expect(response.json()).toMatchObject({ code: 'not_found' });
    }
    expect(await canSignIn('tom', passwordOf('tom'))).toBe(true);
    expect((await trail()).filter((e) => e.kind === 'access_denied').map((e) => e.detail)).toEqual([
      'web=PATCH /api/users/:id target=tom',
      'web=PATCH /api/users/:id target=ada',
      'web=PATCH /api/users/:id target=nobody',
    ]);
  });

  it('refuses adding users to roles without users.manage', async () => {
    const response = await call(tess, 'POST', '/api/users', { id: 'newbie', roles: ['admin'], password: NEW_PASSWORD });
    expect(response.statusCode).toBe(403);
    expect((await listed()).map((u) => u.id)).not.toContain('newbie');
  });
});

describe('the CLI and the web', () => {
  it('see the same store: a user added by one is listed and managed by the other', async () => {
    const env = { PDS_TRACE_DATA_DIR: dataDir, PDS_TRACE_PASSWORD: passwordOf('ada'), PDS_TRACE_NEW_PASSWORD: NEW_PASSWORD };
    expect((await call(ada, 'POST', '/api/users', { id: 'webber', roles: ['analyst'], password: NEW_PASSWORD })).statusCode).toBe(201);
    const list = await runCli(['users', 'list', '--as', 'ada'], env);
    expect(list.error).toBeUndefined();
    expect(list.stdout).toMatch(/^webber\s+person\s+analyst\s+enabled/m);

    const added = await runCli(['users', 'add', 'clive', '--role', 'operator', '--as', 'ada'], env);
    expect(added.error).toBeUndefined();
    expect((await listed()).find((u) => u.id === 'clive')).toMatchObject({ kind: 'person', roles: ['operator'], state: 'enabled' });
    expect((await call(ada, 'PATCH', '/api/users/clive', { disabled: true })).statusCode).toBe(200);
    expect((await runCli(['users', 'list', '--as', 'ada'], env)).stdout).toMatch(/^clive\s+person\s+operator\s+disabled/m);
    // Each side recorded its change of users.json in the trail, so the other found it as recorded.
    expect((await trail()).filter((e) => e.kind === 'user_changed').map((e) => e.outcome)).toEqual(['added', 'added', 'disabled']);
  });
});
