import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAuditStore } from '../../src/audit/store.js';
import { ACCESS_RULES, rolesAllow } from '../../src/auth/roles.js';
import { apiSignIn, dataFolderWithPeople, PEOPLE, webApp, webConfig, type ApiSession, type WebFixture } from './web-support.js';

/** A batch id of the right form that names no batch: allowed callers get 404, refused ones 403. */
const NO_SUCH_BATCH = 'b20260101T000000Z-00000000-0000';

function routeOf(rule: (typeof ACCESS_RULES)[number]): { method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'; pattern: string } {
  if (rule.surface === 'page') return { method: 'GET', pattern: rule.name };
  const [method, pattern] = rule.name.split(' ') as ['GET', string];
  return { method, pattern };
}

describe('every page and API route is checked against ACCESS_RULES by the one hook', () => {
  let web: WebFixture;
  let dataDir: string;
  const sessions = new Map<string, ApiSession>();

  beforeAll(async () => {
    ({ dataDir } = await dataFolderWithPeople());
    web = await webApp(webConfig(dataDir, { PDS_TRACE_WEB_SIGN_IN_PER_MINUTE: '1000' }));
    // Routes that exist in no table: the hook must refuse them to everyone.
    web.app.get('/reports', async () => 'should never be sent');
    web.app.get('/api/reports', async () => ({ secret: true }));
    for (const person of PEOPLE) sessions.set(person.id, await apiSignIn(web.app, person.id));
  });
  afterAll(async () => web?.close());

  const webRules = ACCESS_RULES.filter((rule) => rule.surface === 'page' || rule.surface === 'api');

  it('gives each role and no session exactly what the matrix says, on every rule whose route exists', async () => {
    const exercised: string[] = [];
    for (const rule of webRules) {
      const { method, pattern } = routeOf(rule);
      if (!web.app.hasRoute({ method, url: pattern })) continue;
      exercised.push(`${rule.surface} ${rule.name}`);
      const url = pattern.replace(':id', NO_SUCH_BATCH);
      const anonymous = await web.app.inject({ method, url });
      if (rule.surface === 'api') expect(anonymous.statusCode, `${rule.name} without a session`).toBe(401);
      else expect([anonymous.statusCode, anonymous.headers.location], `${rule.name} without a session`).toEqual([303, '/sign-in']);

      for (const person of PEOPLE) {
        const session = sessions.get(person.id)!;
        const response = await web.app.inject({ method, url, headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken } });
        const label = `${rule.name} as ${person.role}`;
        if (rolesAllow([person.role], rule)) expect([401, 403], label).not.toContain(response.statusCode);
        else {
          expect(response.statusCode, label).toBe(403);
          if (rule.surface === 'api') expect(response.json(), label).toMatchObject({ code: 'forbidden' });
        }
      }
    }
    // The routes built so far; the list grows with the upload journey and the audit page.
    expect(exercised).toEqual(
      expect.arrayContaining(['api GET /api/me', 'api GET /api/batches', 'api GET /api/batches/:id', 'api GET /api/batches/:id/results', 'page /batches', 'page /batches/:id']),
    );
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
