import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAuditStore } from '../../src/audit/store.js';
import { MISUSE_WARNING } from '../../src/cli/session.js';
import { apiSignIn, csrfTokenIn, dataFolderWithPeople, passwordOf, sessionCookie, webApp, webConfig, type WebFixture } from './web-support.js';

async function auditKinds(dataDir: string, user: string): Promise<Array<[string, string | undefined]>> {
  const audit = await openAuditStore({ dataDir });
  try {
    return (await audit.search({ user })).filter((e) => e.kind !== 'user_store_changed').map((e) => [e.kind, e.outcome]);
  } finally {
    await audit.close();
  }
}

/** GET /sign-in, then POST the form with its token and the session cookie it set. */
async function formSignIn(web: WebFixture, userId: string, password: string) {
  const page = await web.app.inject({ method: 'GET', url: '/sign-in' });
  const cookie = sessionCookie(page)!;
  const response = await web.app.inject({
    method: 'POST',
    url: '/sign-in',
    headers: { cookie },
    payload: { userId, password, _csrf: csrfTokenIn(page.body) },
  });
  return { page, response, cookie: sessionCookie(response) ?? cookie };
}

describe('signing in to the web service', () => {
  let dataDir: string;
  let web: WebFixture;

  beforeAll(async () => {
    ({ dataDir } = await dataFolderWithPeople());
    web = await webApp(webConfig(dataDir, { PDS_TRACE_WEB_SIGN_IN_PER_MINUTE: '1000' }));
  });
  afterAll(async () => web?.close());

  it('shows the Computer Misuse Act warning and a labelled form with a CSRF token', async () => {
    const page = await web.app.inject({ method: 'GET', url: '/sign-in' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(MISUSE_WARNING);
    expect(page.body).toContain('PDS batch trace');
    expect(page.body).toMatch(/<label[^>]*for="userId"/);
    expect(page.body).toMatch(/<label[^>]*for="password"/);
    expect(csrfTokenIn(page.body).length).toBeGreaterThan(10);
  });

  it('signs in with the form, issues a new session id, and audits it as the CLI does', async () => {
    const { page, response, cookie } = await formSignIn(web, 'tess', passwordOf('tess'));
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/');
    expect(cookie).not.toBe(sessionCookie(page));
    const batches = await web.app.inject({ method: 'GET', url: '/batches', headers: { cookie } });
    expect(batches.statusCode).toBe(200);
    expect(batches.body).toContain('tess (tracer)');
    expect(batches.body).toContain('Sign out');
    expect(await auditKinds(dataDir, 'tess')).toContainEqual(['sign_in', 'success']);
  });

  it('shows an error summary for empty fields and for a wrong password, without saying which was wrong', async () => {
    const empty = await formSignIn(web, '', '');
    expect(empty.response.statusCode).toBe(400);
    expect(empty.response.body).toContain('nhsuk-error-summary');
    expect(empty.response.body).toContain('href="#userId"');
    expect(empty.response.body).toContain('Enter your password');
    expect(empty.response.body).toMatch(/<title>Error: /);

    const wrong = await formSignIn(web, 'tom', 'not-the-password-at-all');
    expect(wrong.response.statusCode).toBe(401);
    expect(wrong.response.body).toContain('The user id or password is not right');
    const unknown = await formSignIn(web, 'nobody', 'not-the-password-at-all');
    expect(unknown.response.body).toContain('The user id or password is not right');
    expect(await auditKinds(dataDir, 'tom')).toContainEqual(['sign_in_failed', 'bad_password']);
  });

  it('refuses a form posted without its CSRF token, or with another session\'s', async () => {
    const page = await web.app.inject({ method: 'GET', url: '/sign-in' });
    const cookie = sessionCookie(page)!;
    const without = await web.app.inject({ method: 'POST', url: '/sign-in', headers: { cookie }, payload: { userId: 'ann', password: passwordOf('ann') } });
    expect(without.statusCode).toBe(403);
    expect(without.body).toContain('The form had expired');
    const other = await web.app.inject({ method: 'GET', url: '/sign-in' });
    const crossed = await web.app.inject({ method: 'POST', url: '/sign-in', headers: { cookie }, payload: { userId: 'ann', password: passwordOf('ann'), _csrf: csrfTokenIn(other.body) } });
    expect(crossed.statusCode).toBe(403);

    // The JSON API too: a state-changing request needs x-csrf-token.
    const session = await apiSignIn(web.app, 'ann');
    const refused = await web.app.inject({ method: 'DELETE', url: '/api/session', headers: { cookie: session.cookie } });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'csrf_invalid' });
    const me = await web.app.inject({ method: 'GET', url: '/api/me', headers: { cookie: session.cookie } });
    expect(me.json()).toMatchObject({ userId: 'ann', roles: ['analyst'] });
    const signedOut = await web.app.inject({ method: 'DELETE', url: '/api/session', headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken } });
    expect(signedOut.statusCode).toBe(204);
    expect((await web.app.inject({ method: 'GET', url: '/api/me', headers: { cookie: session.cookie } })).statusCode).toBe(401);
  });

  it('sets the session cookie HttpOnly and SameSite, not Secure over plain HTTP', async () => {
    const session = await web.app.inject({ method: 'POST', url: '/api/session', payload: { userId: 'ada', password: passwordOf('ada') } });
    const cookie = session.cookies.find((c) => c.name === 'pds_trace_session')!;
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.sameSite).toBe('Lax');
    expect(cookie.secure).toBeFalsy();
    expect(cookie.path).toBe('/');
  });

  it('sends security headers and a CSP with no inline script but the nonce-carrying one', async () => {
    const page = await web.app.inject({ method: 'GET', url: '/sign-in' });
    const csp = String(page.headers['content-security-policy']);
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeDefined();
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("'unsafe-inline'");
    // Every inline script on the page carries this response's nonce; the rest load from the app.
    const scripts = [...page.body.matchAll(/<script([^>]*)>/g)].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    for (const attributes of scripts) expect(attributes.includes(`nonce="${nonce}"`) || attributes.includes('src="/')).toBe(true);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['cache-control']).toBe('no-store');
    const again = await web.app.inject({ method: 'GET', url: '/sign-in' });
    expect(String(again.headers['content-security-policy'])).not.toContain(nonce);
  });

  it('serves the NHS.UK frontend CSS and JS from the installed package, and nothing else from it', async () => {
    expect((await web.app.inject({ method: 'GET', url: '/nhsuk/nhsuk-frontend.min.css' })).statusCode).toBe(200);
    const js = await web.app.inject({ method: 'GET', url: '/nhsuk/nhsuk-frontend.min.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toContain('javascript');
    expect((await web.app.inject({ method: 'GET', url: '/assets/images/favicon.svg' })).statusCode).toBe(200);
    expect((await web.app.inject({ method: 'GET', url: '/app/init.mjs' })).statusCode).toBe(200);
    expect((await web.app.inject({ method: 'GET', url: '/nhsuk/template.njk' })).statusCode).not.toBe(200);
  });

  it('signs out with the form: the session ends and the sign-out is audited', async () => {
    const { cookie } = await formSignIn(web, 'otto', passwordOf('otto'));
    const batches = await web.app.inject({ method: 'GET', url: '/batches', headers: { cookie } });
    const out = await web.app.inject({ method: 'POST', url: '/sign-out', headers: { cookie }, payload: { _csrf: csrfTokenIn(batches.body) } });
    expect(out.statusCode).toBe(303);
    const after = await web.app.inject({ method: 'GET', url: '/batches', headers: { cookie } });
    expect(after.statusCode).toBe(303);
    expect(after.headers.location).toBe('/sign-in');
    expect(await auditKinds(dataDir, 'otto')).toEqual([['sign_in', 'success'], ['sign_out', 'signed_out']]);
  });
});

describe('lockout and rate limit at sign-in', () => {
  it('locks an account after five wrong passwords, as the CLI does, and says so', async () => {
    const { dataDir } = await dataFolderWithPeople();
    const web = await webApp(webConfig(dataDir, { PDS_TRACE_WEB_SIGN_IN_PER_MINUTE: '1000' }));
    try {
      for (let i = 0; i < 5; i++) {
        const wrong = await web.app.inject({ method: 'POST', url: '/api/session', payload: { userId: 'tess', password: `wrong-password-number-${i}` } });
        expect(wrong.statusCode).toBe(401);
      }
      const locked = await web.app.inject({ method: 'POST', url: '/api/session', payload: { userId: 'tess', password: passwordOf('tess') } });
      expect(locked.statusCode).toBe(401);
      expect(locked.json()).toMatchObject({ code: 'sign_in_refused' });
      expect(locked.json().message).toContain('locked');
      const kinds = await auditKinds(dataDir, 'tess');
      expect(kinds).toContainEqual(['lockout', 'locked']);
      expect(kinds.at(-1)).toEqual(['sign_in_failed', 'locked']);
    } finally {
      await web.close();
    }
  });

  it('refuses more sign-in attempts per minute from one address than the setting allows (429)', async () => {
    const { dataDir } = await dataFolderWithPeople();
    const web = await webApp(webConfig(dataDir, { PDS_TRACE_WEB_SIGN_IN_PER_MINUTE: '3' }));
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const attempt = await web.app.inject({ method: 'POST', url: '/api/session', payload: { userId: 'nobody', password: 'wrong-password-here' } });
        statuses.push(attempt.statusCode);
      }
      expect(statuses).toEqual([401, 401, 401, 429]);
      // The page shares the same allowance: the form is refused too, with a page saying why.
      const page = await web.app.inject({ method: 'POST', url: '/sign-in', payload: { userId: 'tess', password: passwordOf('tess') } });
      expect(page.statusCode).toBe(429);
      expect(page.body).toContain('Too many attempts');
      // Nobody was signed in by the refused attempts.
      expect((await auditKinds(dataDir, 'tess')).filter(([k]) => k === 'sign_in')).toEqual([]);
    } finally {
      await web.close();
    }
  });
});
