import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, waitForServeUrl, type CliProcess } from '../support/worker-process.js';
import { tempDir } from '../support/pipeline.js';
import { dataFolderWithPeople, webApp, webConfig } from './web-support.js';

describe('pds-trace serve', () => {
  it('listens on 127.0.0.1 on the port given (0: any), prints its URL, serves the sign-in page and stops on SIGTERM', async () => {
    const { dataDir } = await dataFolderWithPeople();
    const serve = runCli(['serve', '--port', '0'], { PDS_TRACE_DATA_DIR: dataDir });
    try {
      const url = await waitForServeUrl(serve);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const page = await fetch(new URL('/sign-in', url));
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('Computer Misuse Act');
      const api = await fetch(new URL('/api/me', url));
      expect(api.status).toBe(401);
    } finally {
      serve.child.kill('SIGTERM');
    }
    expect(await serve.exited).toBe(0);
  }, 120_000);

  it('refuses a bad port (exit 2) and a certificate without its key (exit 3), naming what to fix', async () => {
    const dir = await tempDir('serve');
    const env = { PDS_TRACE_DATA_DIR: path.join(dir, 'data') };
    const badPort = runCli(['serve', '--port', 'eighty'], env);
    const halfTls = runCli(['serve', '--port', '0'], { ...env, PDS_TRACE_WEB_TLS_CERT: path.join(dir, 'web.crt') });
    const missingTls = runCli(['serve', '--port', '0'], { ...env, PDS_TRACE_WEB_TLS_CERT: path.join(dir, 'web.crt'), PDS_TRACE_WEB_TLS_KEY: path.join(dir, 'web.key') });
    expect(await badPort.exited).toBe(2);
    expect(badPort.output()).toContain('--port must be a whole number');
    expect(await halfTls.exited).toBe(3);
    expect(halfTls.output()).toContain('PDS_TRACE_WEB_TLS_CERT / PDS_TRACE_WEB_TLS_KEY');
    expect(await missingTls.exited).toBe(3);
    expect(missingTls.output()).toContain('cannot read the web certificate or key');
    expect(missingTls.output()).not.toMatch(/\n\s+at /);
  }, 120_000);

  it('honours X-Forwarded-For only with --trust-proxy: the sign-in limit counts the real client', async () => {
    const { dataDir } = await dataFolderWithPeople();
    const config = webConfig(dataDir, { PDS_TRACE_WEB_SIGN_IN_PER_MINUTE: '2' });
    const attempt = (app: Awaited<ReturnType<typeof webApp>>['app'], forwardedFor: string) =>
      app.inject({ method: 'POST', url: '/api/session', headers: { 'x-forwarded-for': forwardedFor }, payload: { userId: 'nobody', password: 'wrong-password-here' } });

    const direct = await webApp(config);
    try {
      // Not trusted: a client cannot dodge the limit by inventing addresses.
      const statuses = [];
      for (const address of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) statuses.push((await attempt(direct.app, address)).statusCode);
      expect(statuses).toEqual([401, 401, 429]);
    } finally {
      await direct.close();
    }
    const proxied = await webApp(config, { trustProxy: true });
    try {
      const statuses = [];
      for (const address of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) statuses.push((await attempt(proxied.app, address)).statusCode);
      expect(statuses).toEqual([401, 401, 401]);
    } finally {
      await proxied.close();
    }
  });
});
