import { chmod, mkdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/errors.js';
import { tempDir } from '../support/pipeline.js';
import { runCli } from '../support/worker-process.js';

describe('pds-trace doctor', () => {
  it('prints one line per check with the fix under each problem, and exits 1 on a FAIL', async () => {
    const dir = await tempDir('doctor-cli');
    await mkdir(`${dir}/data`, { mode: 0o755 });
    await chmod(`${dir}/data`, 0o755);
    const run = runCli(['doctor'], { PDS_TRACE_DATA_DIR: `${dir}/data`, REDIS_URL: 'redis://:synthetic-secret@127.0.0.1:6379' });
    expect(await run.exited, run.output()).toBe(EXIT.failure);
    const out = run.output();
    for (const title of ['Configuration', 'SMSP provider', 'TLS certificates', 'SMSP answers', 'Redis', 'Workers', 'Schedules', 'Data folder', 'Audit trail', 'Users']) {
      expect(out).toMatch(new RegExp(`^\\[(PASS|WARN|FAIL|SKIP)\\] ${title}: `, 'm'));
    }
    expect(out).toMatch(/^\[FAIL\] Data folder: .* is open to other users \(mode 755\)\n {7}Fix: Run: chmod 700 /m);
    expect(out).toMatch(/^\[WARN\] SMSP provider: BUILT-IN SIMULATOR/m);
    expect(out).toMatch(/^1 failure, \d warnings?, \d+ passed, \d+ skipped$/m);
    expect(out).not.toContain('synthetic-secret');
  }, 60_000);

  it('gives JSON with --json, runs only the named checks, and exits 0 when none fails', async () => {
    const dir = await tempDir('doctor-json');
    const run = runCli(['doctor', '--json', '--only', 'config', 'provider'], { PDS_TRACE_DATA_DIR: `${dir}/data` });
    expect(await run.exited, run.output()).toBe(EXIT.ok);
    const report = JSON.parse(run.output()) as { ok: boolean; checks: Array<{ name: string; status: string }> };
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => [c.name, c.status])).toEqual([['config', 'PASS'], ['provider', 'WARN']]);
  }, 60_000);

  it('refuses a check it does not know as a usage error', async () => {
    const run = runCli(['doctor', '--only', 'nope'], {});
    expect(await run.exited).toBe(EXIT.usage);
    expect(run.output()).toMatch(/no such check: nope \(checks: config, provider, tls/);
  }, 60_000);
});
