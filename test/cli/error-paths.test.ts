import { access, mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/errors.js';
import { createPki } from '../../src/tls/pki.js';
import { provisionServiceAccount } from '../support/accounts.js';
import { ensureBuiltCli, runBuiltCli, STACK_TRACE } from '../support/built-cli.js';
import { tempDir } from '../support/pipeline.js';
import { freePort } from '../support/ports.js';

/**
 * Every way a user can get a command wrong, or point it at something that is not there, run
 * through the built `pds-trace` as a shell would: each ends with the exit code README's "Exit
 * codes" gives it, says why in words, prints no stack trace, and (where a batch could have been
 * made) makes none.
 */

async function noBatchUnder(dataDir: string): Promise<void> {
  await expect(access(`${dataDir}/batches`)).rejects.toThrow();
}

async function run(args: string[], env: Record<string, string>) {
  const cli = runBuiltCli(args, env);
  const code = await cli.exited;
  expect(cli.output()).not.toMatch(STACK_TRACE);
  return { code, output: cli.output() };
}

beforeAll(() => ensureBuiltCli(), 120_000);

describe('usage mistakes end with exit 2 (usage) and the help, never a trace', () => {
  it.each([
    ['no command', [], /Usage: pds-trace/],
    ['a misspelt command', ['trase', 'samples/cohort-small.csv'], /unknown command 'trase'[\s\S]*Did you mean trace\?/],
    ['trace with no file', ['trace'], /missing required argument 'file'/],
    ['a format not offered', ['trace', 'samples/cohort-small.csv', '--format', 'xml'], /argument 'xml' is invalid\. Allowed choices are native, mesh/],
    ['an unknown option', ['trace', 'samples/cohort-small.csv', '--bogus'], /unknown option '--bogus'/],
    ['a subcommand group with no subcommand', ['users'], /Usage: pds-trace users/],
    ['a log format not offered', ['status', '--log-format', 'yaml'], /argument 'yaml' is invalid\. Allowed choices are json, text/],
  ])('%s', async (_case, args, says) => {
    const dir = await tempDir('usage');
    const { code, output } = await run(args, { PDS_TRACE_DATA_DIR: `${dir}/data` });
    expect(code, output).toBe(EXIT.usage);
    expect(output).toMatch(says);
    await noBatchUnder(`${dir}/data`);
  }, 30_000);

  it('--help and --version still end with 0', async () => {
    for (const args of [['--help'], ['trace', '--help'], ['--version']]) {
      const { code } = await run(args, {});
      expect(code).toBe(EXIT.ok);
    }
  }, 30_000);
});

describe('an input that is not a readable file ends with exit 4, in a sentence, before a batch is made', () => {
  it.each([
    ['a missing file', (dir: string) => `${dir}/no-such-cohort.csv`, /The file was not traced: \S+no-such-cohort\.csv: no such file or folder \(ENOENT\)/],
    ['a folder', (dir: string) => dir, /The file was not traced: \S+ is a folder; give the CSV file itself/],
  ])('%s', async (_case, input, says) => {
    const dir = await tempDir('bad-input');
    const { code, output } = await run(['trace', input(dir), '--out', `${dir}/out`], { PDS_TRACE_DATA_DIR: `${dir}/data` });
    expect(code, output).toBe(EXIT.fileRejected);
    expect(output).toMatch(says);
    await noBatchUnder(`${dir}/data`);
  }, 30_000);
});

describe('settings that cannot work end the command within seconds, naming the setting, before a batch is made', () => {
  let dir: string;
  let certs: { cert: string; key: string; ca: string; garbage: string };
  let signIn: Record<string, string>;

  beforeAll(async () => {
    dir = await tempDir('settings');
    await mkdir(`${dir}/data`, { recursive: true });
    const pki = await createPki();
    certs = { cert: `${dir}/client.pem`, key: `${dir}/client.key`, ca: `${dir}/ca.pem`, garbage: `${dir}/garbage.key` };
    await writeFile(certs.cert, pki.client.cert);
    await writeFile(certs.key, pki.client.key);
    await writeFile(certs.ca, pki.ca.cert);
    await writeFile(certs.garbage, 'not a key\n');
    // SMSP_URL means a real deployment: someone must sign in.
    signIn = await provisionServiceAccount(`${dir}/data`);
  }, 60_000);

  const smspEnv = async (tls: Partial<Record<'SMSP_TLS_CERT' | 'SMSP_TLS_KEY' | 'SMSP_TLS_CA', string>>) => ({
    PDS_TRACE_DATA_DIR: `${dir}/data`,
    SMSP_URL: `https://127.0.0.1:${await freePort()}/smsp/pds`,
    SMSP_ASID: '999000000001',
    SMSP_TLS_CERT: certs.cert,
    SMSP_TLS_KEY: certs.key,
    SMSP_TLS_CA: certs.ca,
    ...signIn,
    ...tls,
  });

  it('a certificate path that does not exist: exit 3 naming SMSP_TLS_CERT and the path', async () => {
    const { code, output } = await run(['trace', 'samples/cohort-small.csv', '--out', `${dir}/out`], await smspEnv({ SMSP_TLS_CERT: `${dir}/missing.pem` }));
    expect(code, output).toBe(EXIT.config);
    expect(output).toMatch(/SMSP_TLS_CERT: cannot read \S+missing\.pem \(ENOENT\)/);
    await noBatchUnder(`${dir}/data`);
  }, 30_000);

  it('a key that is not a key: exit 3 naming the setting', async () => {
    const { code, output } = await run(['trace', 'samples/cohort-small.csv', '--out', `${dir}/out`], await smspEnv({ SMSP_TLS_KEY: certs.garbage }));
    expect(code, output).toBe(EXIT.config);
    expect(output).toMatch(/SMSP_TLS_CERT: unusable TLS material/);
    await noBatchUnder(`${dir}/data`);
  }, 30_000);

  it('the same for a worker, which ends instead of starting', async () => {
    const env = { ...(await smspEnv({ SMSP_TLS_CERT: `${dir}/missing.pem` })), REDIS_URL: 'redis://127.0.0.1:6379' };
    const { code, output } = await run(['worker'], env);
    expect(code, output).toBe(EXIT.config);
    expect(output).toMatch(/SMSP_TLS_CERT: cannot read/);
  }, 30_000);

  it('SMSP not answering at SMSP_URL: exit 5 naming SMSP_URL, nothing submitted or sent', async () => {
    const env = await smspEnv({});
    const { code, output } = await run(['trace', 'samples/cohort-small.csv', '--out', `${dir}/out`], env);
    expect(code, output).toBe(EXIT.smspUnreachable);
    expect(output).toContain(`SMSP does not answer at SMSP_URL ${env.SMSP_URL} (ECONNREFUSED): check SMSP_URL`);
    await noBatchUnder(`${dir}/data`);
  }, 30_000);

  it('PostgreSQL not answering at AUDIT_DATABASE_URL: exit 3 naming AUDIT_DATABASE_URL', async () => {
    const fresh = await tempDir('audit-down');
    const url = `postgres://pds_trace_app:secret@127.0.0.1:${await freePort()}/pds_trace`;
    const { code, output } = await run(['trace', 'samples/cohort-small.csv', '--out', `${fresh}/out`], { PDS_TRACE_DATA_DIR: `${fresh}/data`, AUDIT_DATABASE_URL: url });
    expect(code, output).toBe(EXIT.config);
    expect(output).toMatch(/the audit database does not answer at AUDIT_DATABASE_URL postgres:\/\/127\.0\.0\.1:\d+\/pds_trace \(schema \w+\) \(ECONNREFUSED\): check AUDIT_DATABASE_URL/);
    // The password never reaches the terminal.
    expect(output).not.toContain('secret');
    await noBatchUnder(`${fresh}/data`);
  }, 30_000);

  it('Redis not answering at REDIS_URL: exit 3 naming REDIS_URL', async () => {
    const fresh = await tempDir('redis-down');
    const { code, output } = await run(['trace', 'samples/cohort-small.csv', '--out', `${fresh}/out`], { PDS_TRACE_DATA_DIR: `${fresh}/data`, REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    expect(code, output).toBe(EXIT.config);
    expect(output).toMatch(/Redis does not answer at REDIS_URL redis:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
    await noBatchUnder(`${fresh}/data`);
  }, 30_000);

  it('a metrics port already taken: exit 3 naming PDS_TRACE_METRICS_PORT, for watch as for serve', async () => {
    const fresh = await tempDir('metrics-port');
    const holder = net.createServer();
    const port = await new Promise<number>((resolve) => holder.listen(0, '127.0.0.1', () => resolve((holder.address() as net.AddressInfo).port)));
    try {
      const { code, output } = await run(['watch', `${fresh}/watched`], { PDS_TRACE_DATA_DIR: `${fresh}/data`, PDS_TRACE_METRICS_PORT: String(port) });
      expect(code, output).toBe(EXIT.config);
      expect(output).toMatch(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port} for metrics \\(EADDRINUSE\\): change PDS_TRACE_METRICS_PORT`));
      expect(output).not.toMatch(/fault in pds-trace/);
    } finally {
      holder.close();
    }
  }, 60_000);

  it('a malformed setting: exit 3 naming it', async () => {
    const fresh = await tempDir('bad-setting');
    const { code, output } = await run(['status'], { PDS_TRACE_DATA_DIR: `${fresh}/data`, PDS_TRACE_LOG_FORMAT: 'yaml' });
    expect(code, output).toBe(EXIT.config);
    expect(output).toMatch(/PDS_TRACE_LOG_FORMAT: /);
  }, 30_000);
});
