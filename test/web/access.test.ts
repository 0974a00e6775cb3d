import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAuditStore } from '../../src/audit/store.js';
import { ACCESS_RULES, rolesAllow, type AccessRule } from '../../src/auth/roles.js';
import { issueServiceToken } from '../../src/auth/service-token.js';
import { recordedUsers } from '../support/accounts.js';
import { apiSignIn, dataFolderWithPeople, PEOPLE, webApp, webConfig, type ApiSession, type WebFixture } from './web-support.js';

/** A batch id of the right form that names no batch: allowed callers get 404, refused ones 403. */
const NO_SUCH_BATCH = 'b20260101T000000Z-00000000-0000';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

function routeOf(rule: AccessRule): { method: Method; pattern: string; url: string } {
  const [method, pattern] = rule.surface === 'page' ? ['GET' as const, rule.name] : (rule.name.split(' ') as [Method, string]);
  return { method, pattern, url: pattern.replace(':id', NO_SUCH_BATCH).replace(':kind', 'results') };
}

describe('every page and API route is checked against ACCESS_RULES by the one hook', () => {
  let web: WebFixture;
  let dataDir: string;
  let serviceToken: string;
  const sessions = new Map<string, ApiSession>();

  beforeAll(async () => {
    ({ dataDir } = await dataFolderWithPeople());
    const issued = issueServiceToken();
    serviceToken = issued.token;
    await (await recordedUsers(dataDir)).add({ id: 'svc-nightly', kind: 'service', roles: ['tracer'], tokenHash: issued.hash });
    web = await webApp(webConfig(dataDir, { PDS_TRACE_WEB_SIGN_IN_PER_MINUTE: '1000' }));
    // Routes that exist in no table: the hook must refuse them to everyone.
    web.app.get('/reports', async () => 'should never be sent');
    web.app.get('/api/reports', async () => ({ secret: true }));
    for (const person of PEOPLE) sessions.set(person.id, await apiSignIn(web.app, person.id));
  });
  afterAll(async () => web?.close());

  const webRules = ACCESS_RULES.filter((rule) => rule.surface === 'page' || rule.surface === 'api');

  it('gives each role and no session exactly what the matrix says, on every rule, every one of them built', async () => {
    const notBuilt: string[] = [];
    for (const rule of webRules) {
      const { method, pattern, url } = routeOf(rule);
      if (!web.app.hasRoute({ method, url: pattern })) notBuilt.push(`${rule.surface} ${rule.name}`);
      const anonymous = await web.app.inject({ method, url });
      if (rule.surface === 'api') expect(anonymous.statusCode, `${rule.name} without a session`).toBe(401);
      else expect([anonymous.statusCode, anonymous.headers.location], `${rule.name} without a session`).toEqual([303, '/sign-in']);

      for (const person of PEOPLE) {
        const session = sessions.get(person.id)!;
        const response = await web.app.inject({ method, url, headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken } });
        const label = `${rule.name} as ${person.role}`;
        if (!rolesAllow([person.role], rule)) {
          expect(response.statusCode, label).toBe(403);
          if (rule.surface === 'api') expect(response.json(), label).toMatchObject({ code: 'forbidden' });
        } else {
          // Let through: whatever the handler then says (here, no such batch, user or body), never a refusal or a crash.
          expect([401, 403], label).not.toContain(response.statusCode);
          expect(response.statusCode, label).toBeLessThan(500);
        }
      }
    }
    // The table names no route that the service lacks: each rule is a real page or route.
    expect(notBuilt).toEqual([]);
  });

  it('audits a refusal by role as the CLI audits a refused command', async () => {
    const response = await web.app.inject({ method: 'GET', url: '/batches', headers: { cookie: sessions.get('aud')!.cookie } });
    expect(response.statusCode).toBe(403);
    expect(response.body).toContain('You cannot use this page');
    const audit = await openAuditStore({ dataDir });
    try {
      const denied = (await audit.search({ user: 'aud', kind: 'access_denied' })).map((e) => [e.role, e.outcome, e.detail]);
      expect(denied).toContainEqual(['auditor', 'refused', 'page=/batches']);
    } finally {
      await audit.close();
    }
  });

  it('refuses a state-changing request without the session\'s CSRF token', async () => {
    for (const [who, url] of [['aud', '/api/audit/verify'], ['tess', `/api/batches/${NO_SUCH_BATCH}/cancel`]] as const) {
      const session = sessions.get(who)!;
      for (const headers of [{ cookie: session.cookie }, { cookie: session.cookie, 'x-csrf-token': 'forged' }]) {
        const response = await web.app.inject({ method: 'POST', url, headers });
        expect(response.statusCode, url).toBe(403);
        expect(response.json()).toMatchObject({ code: 'csrf_invalid' });
      }
    }
  });

  it('lets a service account call the API with its bearer token, with no CSRF token, audited as its sign-in', async () => {
    const bearer = { authorization: `Bearer ${serviceToken}` };
    const me = await web.app.inject({ method: 'GET', url: '/api/me', headers: bearer });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toEqual({ userId: 'svc-nightly', roles: ['tracer'], kind: 'service' });
    // State-changing, and no CSRF token: the bearer token is the proof (here: no such batch).
    expect((await web.app.inject({ method: 'POST', url: `/api/batches/${NO_SUCH_BATCH}/cancel`, headers: bearer })).statusCode).toBe(404);
    // Its role still decides: a tracer may not read the audit trail.
    expect((await web.app.inject({ method: 'GET', url: '/api/audit/events', headers: bearer })).statusCode).toBe(403);
    // No cookie is set: every request carries its token.
    expect(me.cookies.find((c) => c.name === 'pds_trace_session')).toBeUndefined();
    // A token is for scripts: a page wants a person's session.
    expect((await web.app.inject({ method: 'GET', url: '/batches', headers: bearer })).headers.location).toBe('/sign-in');
    const audit = await openAuditStore({ dataDir });
    try {
      const signIns = (await audit.search({ user: 'svc-nightly', kind: 'sign_in' })).map((e) => e.detail);
      expect(signIns.length).toBeGreaterThanOrEqual(3);
      expect(new Set(signIns)).toEqual(new Set(['method=service_token']));
    } finally {
      await audit.close();
    }
  });

  it('answers a bad bearer token with 401 and records the failed sign-in', async () => {
    const audit = await openAuditStore({ dataDir });
    try {
      const before = (await audit.search({ kind: 'sign_in_failed' })).length;
      for (const token of [`${serviceToken.slice(0, -2)}xx`, 'pdst_not-a-token', 'garbage']) {
        const response = await web.app.inject({ method: 'GET', url: '/api/batches', headers: { authorization: `Bearer ${token}` } });
        expect(response.statusCode, token).toBe(401);
        expect(response.json()).toMatchObject({ code: 'not_signed_in' });
        expect(response.body).not.toContain(token);
      }
      const failed = (await audit.search({ kind: 'sign_in_failed' })).slice(before);
      expect(failed.map((e) => [e.outcome, e.detail])).toEqual(Array(3).fill(['bad_token', 'method=service_token']));
    } finally {
      await audit.close();
    }
    // A disabled service account's good token is refused too.
    await (await recordedUsers(dataDir)).disable('svc-nightly');
    expect((await web.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${serviceToken}` } })).statusCode).toBe(401);
  });

  it('refuses a route that has no rule in the table, to everyone, signed in or not', async () => {
    for (const url of ['/reports', '/api/reports']) {
      for (const headers of [{}, { cookie: sessions.get('ada')!.cookie }, { cookie: sessions.get('tess')!.cookie }]) {
        const response = await web.app.inject({ method: 'GET', url, headers });
        expect(response.statusCode, url).toBe(403);
        expect(response.body).not.toContain('secret');
        expect(response.body).not.toContain('should never be sent');
      }
    }
    expect((await web.app.inject({ method: 'GET', url: '/api/reports' })).json()).toMatchObject({ code: 'no_access_rule' });
  });

  it('answers an unknown address with 404, as JSON under /api', async () => {
    expect((await web.app.inject({ method: 'GET', url: '/nowhere' })).statusCode).toBe(404);
    const api = await web.app.inject({ method: 'GET', url: '/api/nowhere' });
    expect(api.statusCode).toBe(404);
    expect(api.json()).toMatchObject({ code: 'not_found' });
  });
});
