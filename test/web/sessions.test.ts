import { readFileSync } from 'node:fs';
import https from 'node:https';
import { afterEach, describe, expect, it } from 'vitest';
import { openAuditStore } from '../../src/audit/store.js';
import path from 'node:path';
import { apiSignIn, dataFolderWithPeople, passwordOf, tracedBatch, webApp, webConfig, type WebFixture } from './web-support.js';
import { writeServerCertificate } from './tls-support.js';
import { recordedUsers } from '../support/accounts.js';

const MINUTE = 60_000;

describe('web sessions', () => {
  let web: WebFixture | undefined;
  afterEach(async () => {
    await web?.close();
    web = undefined;
  });

  it('end after the idle timeout (the setting), not while in use, and the timeout is audited', async () => {
    const { dataDir } = await dataFolderWithPeople();
    let now = Date.parse('2026-12-06T09:00:00Z');
    web = await webApp(webConfig(dataDir, { PDS_TRACE_WEB_IDLE_MINUTES: '15' }), { clock: () => now });
    const { cookie } = await apiSignIn(web.app, 'tess');
    const page = () => web!.app.inject({ method: 'GET', url: '/batches', headers: { cookie } });

    // In use every 14 minutes: still signed in after 42.
    for (let i = 0; i < 3; i++) {
      now += 14 * MINUTE;
      expect((await page()).statusCode).toBe(200);
    }
    now += 15 * MINUTE + 1000;
    const expired = await page();
    expect(expired.statusCode).toBe(303);
    expect(expired.headers.location).toBe('/sign-in?timeout=1');
    const signIn = await web.app.inject({ method: 'GET', url: '/sign-in?timeout=1' });
    expect(signIn.body).toContain('You were signed out because you had not used the service for a while');
    // Gone for good: the same cookie does not come back to life.
    now += 1000;
    expect((await web.app.inject({ method: 'GET', url: '/api/me', headers: { cookie } })).statusCode).toBe(401);

    const audit = await openAuditStore({ dataDir });
    try {
      const ends = (await audit.search({ user: 'tess', kind: 'sign_out' })).map((e) => e.outcome);
      expect(ends).toEqual(['idle_timeout']);
    } finally {
      await audit.close();
    }
  });

  it("are not kept alive by a batch page's progress stream: a page left open still times out", async () => {
    const { dir, dataDir } = await dataFolderWithPeople();
    const batch = await tracedBatch(dataDir, path.join(dir, 'out'), 'tess', 5);
    let now = Date.parse('2026-12-06T09:00:00Z');
    web = await webApp(webConfig(dataDir, { PDS_TRACE_WEB_IDLE_MINUTES: '15' }), { clock: () => now });
    const { cookie } = await apiSignIn(web.app, 'tess');
    const events = () => web!.app.inject({ method: 'GET', url: `/api/batches/${batch.id}/events`, headers: { cookie } });
    for (let i = 0; i < 3; i++) {
      now += 10 * MINUTE;
      if (i < 1) expect((await events()).statusCode).toBe(200);
      else expect((await events()).statusCode).toBe(401);
    }
  }, 60_000);

  it('survive a restart of the server: the same cookie works on a new app over the same data folder', async () => {
    const { dataDir } = await dataFolderWithPeople();
    const config = webConfig(dataDir);
    web = await webApp(config);
    const { cookie, csrfToken } = await apiSignIn(web.app, 'ann');
    await web.close();

    web = await webApp(config);
    const me = await web.app.inject({ method: 'GET', url: '/api/me', headers: { cookie } });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ userId: 'ann' });
    // Its CSRF secret came back with it: the token from before the restart still signs out.
    const out = await web.app.inject({ method: 'DELETE', url: '/api/session', headers: { cookie, 'x-csrf-token': csrfToken } });
    expect(out.statusCode).toBe(204);
  });

  it('end when the user is disabled: roles and status are read afresh on every request', async () => {
    const { dataDir } = await dataFolderWithPeople();
    web = await webApp(webConfig(dataDir));
    const { cookie } = await apiSignIn(web.app, 'tom');
    expect((await web.app.inject({ method: 'GET', url: '/api/me', headers: { cookie } })).statusCode).toBe(200);
    await (await recordedUsers(dataDir)).disable('tom');
    expect((await web.app.inject({ method: 'GET', url: '/api/me', headers: { cookie } })).statusCode).toBe(401);
  });

  it('speaks HTTPS when a certificate is configured, and marks the cookie Secure', async () => {
    const { dataDir, dir } = await dataFolderWithPeople();
    const tls = await writeServerCertificate(dir);
    web = await webApp(webConfig(dataDir, { PDS_TRACE_WEB_TLS_CERT: tls.cert, PDS_TRACE_WEB_TLS_KEY: tls.key }));
    const address = await web.app.listen({ host: '127.0.0.1', port: 0 });
    expect(address).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const response = await new Promise<{ status: number; headers: Record<string, string | string[] | undefined> }>((resolve, reject) => {
      const body = JSON.stringify({ userId: 'ada', password: passwordOf('ada') });
      const req = https.request(`${address}/api/session`, { method: 'POST', ca: readFileSync(tls.ca), headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      });
      req.on('error', reject);
      req.end(body);
    });
    expect(response.status).toBe(200);
    const setCookie = ([] as string[]).concat(response.headers['set-cookie'] ?? []).find((c) => c.startsWith('pds_trace_session='));
    expect(setCookie).toMatch(/; Secure/);
    expect(setCookie).toMatch(/; HttpOnly/);
    expect(setCookie).toMatch(/; SameSite=Lax/);
    expect(response.headers['strict-transport-security']).toContain('max-age=');
  });
});
