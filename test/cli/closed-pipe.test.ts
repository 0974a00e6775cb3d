import { access } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { openFileAuditStore } from '../../src/audit/file-store.js';
import { auditDir } from '../../src/audit/store.js';
import { hashPassword } from '../../src/auth/password.js';
import { sampleEvents } from '../audit/fixtures.js';
import { FAST_SCRYPT, GOOD_PASSWORD } from '../auth/fixtures.js';
import { recordedUsers } from '../support/accounts.js';
import { ensureBuiltCli, runBuiltCli, STACK_TRACE, waitFor } from '../support/built-cli.js';
import { tempDir } from '../support/pipeline.js';

/**
 * `pds-trace trace … | head -1`: the reader of standard output goes away while the command still
 * has things to say. Here the read end of a real pipe is closed before the command writes its
 * report, so every write it makes to standard output fails with EPIPE: the command must finish
 * its work and end with its own exit code, quietly.
 */

beforeAll(() => ensureBuiltCli(), 120_000);

describe('a closed standard output', () => {
  it('trace finishes the batch, writes its outputs and exits 0 without an EPIPE crash', async () => {
    const dir = await tempDir('closed-pipe');
    const run = runBuiltCli(['trace', 'samples/cohort-small.csv', '--out', `${dir}/out`], { PDS_TRACE_DATA_DIR: `${dir}/data`, SMSP_MAX_RATE: '400' });
    // Gone before the first line of the report is written, as `head` is once it has its line.
    run.child.stdout!.destroy();
    await waitFor(run.stderr, /Batch b\S+/);
    expect(await run.exited, run.stderr()).toBe(0);
    expect(run.stderr()).not.toMatch(STACK_TRACE);
    expect(run.stderr()).not.toContain('EPIPE');
    await access(`${dir}/out/cohort-small.SIMULATED.results.csv`);
    await access(`${dir}/out/cohort-small.SIMULATED.summary.json`);
  }, 120_000);

  it('audit search ends with 0, quietly, when its reader has gone', async () => {
    const dir = await tempDir('closed-pipe-audit');
    const store = await openFileAuditStore(auditDir(dir));
    await store.append(sampleEvents(500));
    await store.close();
    const users = await recordedUsers(dir);
    const passwordHash = await hashPassword(GOOD_PASSWORD, FAST_SCRYPT);
    await users.add({ id: 'ada', roles: ['admin'], kind: 'person', passwordHash });
    await users.add({ id: 'aud', roles: ['auditor'], kind: 'person', passwordHash });

    const run = runBuiltCli(['audit', 'search', '--as', 'aud'], { PDS_TRACE_DATA_DIR: dir, PDS_TRACE_PASSWORD: GOOD_PASSWORD, PDS_TRACE_SIMULATOR: 'true' });
    run.child.stdout!.destroy();
    expect(await run.exited, run.stderr()).toBe(0);
    expect(run.stderr()).not.toMatch(STACK_TRACE);
    expect(run.stderr()).not.toContain('EPIPE');
  }, 60_000);
});
