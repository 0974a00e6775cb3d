import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessDeniedError, requireAccess, requireBatchControl, requireOwnBatch, type Principal } from '../../src/auth/authorise.js';
import { hashPassword } from '../../src/auth/password.js';
import { ACCESS_RULES, PERMISSION_NAMES, ROLE_NAMES, ROLES, accessRule, type AccessRule, type Permission, type Role } from '../../src/auth/roles.js';
import { CliError } from '../../src/cli/errors.js';
import { tempFolder } from '../audit/fixtures.js';
import { recordedUsers } from '../support/accounts.js';
import { registeredCommandNames, runCli } from './cli-harness.js';
import { FAST_SCRYPT, GOOD_PASSWORD } from './fixtures.js';

/**
 * The permission-matrix test: every command, route and page of ACCESS_RULES × every role, allowed
 * or refused as the role table says — generated from the tables, so a new entry is covered the day
 * it is added. Hand-written expectations pin the policy itself where a slip would matter most.
 */

const principal = (role: Role): Principal => ({ userId: `someone-${role}`, roles: [role], kind: 'person' });
const held = (role: Role): readonly Permission[] => ROLES[role].permissions;
const expectedAllowed = (role: Role, rule: AccessRule) => rule.anyOf.length === 0 || rule.anyOf.some((p) => held(role).includes(p));

describe('the policy', () => {
  it('gives the audit permissions to auditors alone, and auditors nothing else', () => {
    for (const role of ROLE_NAMES) {
      const audit = held(role).filter((p) => p.startsWith('audit.'));
      expect(audit).toEqual(role === 'auditor' ? ['audit.read', 'audit.verify'] : []);
    }
    expect(held('auditor')).toEqual(['audit.read', 'audit.verify']);
  });

  it('lets only operators and admins purge any batch’s work files, and auditors none', () => {
    expect(ROLE_NAMES.filter((r) => held(r).includes('batch.purge.any'))).toEqual(['admin', 'operator']);
    expect(expectedAllowed('auditor', accessRule('cli', 'purge'))).toBe(false);
  });

  it('keeps patient results from admin, operator and auditor', () => {
    for (const role of ['admin', 'operator', 'auditor'] as const) {
      expect(held(role)).not.toContain('results.download');
      expect(held(role)).not.toContain('research.download');
    }
    expect(ROLE_NAMES.filter((r) => held(r).includes('research.download'))).toEqual(['analyst']);
  });

  it('lets each role use exactly these CLI commands', () => {
    const cliFor = (role: Role) => ACCESS_RULES.filter((r) => r.surface === 'cli' && expectedAllowed(role, r)).map((r) => r.name);
    expect(cliFor('admin')).toEqual(['schedule list', 'schedule sync', 'status', 'purge', 'simulator', 'cohort', 'population', 'users add', 'users passwd', 'users disable', 'users enable', 'users set-roles', 'users list', 'users accept-store', 'users roles', 'audit migrate', 'audit pin']);
    // resume, retry, cancel by batch.manage.own and purge by batch.submit: only the user's own batches (the command checks).
    expect(cliFor('tracer')).toEqual(['trace', 'watch', 'status', 'resume', 'retry', 'cancel', 'purge', 'users roles']);
    expect(cliFor('analyst')).toEqual(['trace', 'watch', 'status', 'resume', 'retry', 'cancel', 'purge', 'users roles']);
    expect(cliFor('auditor')).toEqual(['users roles', 'audit verify', 'audit search']);
    expect(cliFor('operator')).toEqual(['worker', 'schedule list', 'schedule sync', 'schedule run', 'status', 'resume', 'retry', 'cancel', 'purge', 'simulator', 'cohort', 'population', 'users roles']);
  });

  it('uses every permission somewhere, and lists each command, route and page once', () => {
    for (const permission of PERMISSION_NAMES) {
      expect(ROLE_NAMES.some((r) => held(r).includes(permission)), permission).toBe(true);
      expect(ACCESS_RULES.some((r) => r.anyOf.includes(permission)), permission).toBe(true);
    }
    const keys = ACCESS_RULES.map((r) => `${r.surface} ${r.name}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('has a rule for every pds-trace command, the lead’s and these modules’ alike', () => {
    const commands = ['trace', 'worker', 'watch', 'schedule list', 'schedule sync', 'schedule run', 'status', 'resume', 'retry', 'cancel', 'purge', 'simulator', 'cohort', 'population', ...registeredCommandNames()];
    expect(registeredCommandNames()).toEqual(expect.arrayContaining(['users add', 'users passwd', 'users roles', 'audit verify', 'audit search', 'audit migrate']));
    for (const name of commands) expect(() => accessRule('cli', name), name).not.toThrow();
  });

  it('refuses anything missing from the table instead of allowing it', () => {
    expect(() => requireAccess(principal('admin'), 'cli', 'format-disk')).toThrow(/no access rule for cli "format-disk"/);
  });
});

describe.each(ACCESS_RULES.map((rule) => [`${rule.surface} ${rule.name}`, rule] as const))('%s', (_label, rule) => {
  it.each(ROLE_NAMES)(`as %s is ${''}allowed or refused as the matrix says`, (role) => {
    const attempt = () => requireAccess(principal(role), rule.surface, rule.name);
    if (expectedAllowed(role, rule)) {
      expect(attempt()).toBe(rule);
    } else {
      expect(attempt).toThrow(AccessDeniedError);
      try {
        attempt();
      } catch (err) {
        expect(err).toMatchObject({ userId: `someone-${role}`, permission: rule.anyOf, target: rule.name });
      }
    }
  });
});

describe('batch ownership', () => {
  const batch = { id: 'b-1', user: 'tess' };
  const tess: Principal = { userId: 'tess', roles: ['tracer'], kind: 'person' };
  const other: Principal = { userId: 'ana', roles: ['analyst'], kind: 'person' };
  const operator: Principal = { userId: 'olly', roles: ['operator'], kind: 'person' };

  it('lets the submitter read and download their own batch', () => {
    expect(() => requireOwnBatch(tess, 'batch.read.own', batch)).not.toThrow();
    expect(() => requireOwnBatch(tess, 'results.download', batch)).not.toThrow();
  });

  it('refuses another user’s batch, naming the batch and not its content', () => {
    expect(() => requireOwnBatch(other, 'results.download', batch)).toThrow(/ana may not use batch b-1: needs results.download/);
    expect(() => requireOwnBatch(other, 'batch.read.own', batch)).toThrow(AccessDeniedError);
  });

  it('lets batch.read.any see any batch’s status but never download its results', () => {
    expect(() => requireOwnBatch(operator, 'batch.read.own', batch)).not.toThrow();
    expect(() => requireOwnBatch(operator, 'results.download', batch)).toThrow(AccessDeniedError);
  });

  it('lets the submitter resume, retry and cancel their own batch, an operator any, nobody else', () => {
    expect(() => requireBatchControl(tess, batch)).not.toThrow();
    expect(() => requireBatchControl(operator, batch)).not.toThrow();
    expect(() => requireBatchControl(other, batch)).toThrow(/ana may not use batch b-1: needs one of batch.manage.own, queue.operate/);
    const admin: Principal = { userId: 'tess', roles: ['admin'], kind: 'person' };
    expect(() => requireBatchControl(admin, batch)).toThrow(AccessDeniedError);
    const auditor: Principal = { userId: 'tess', roles: ['auditor'], kind: 'person' };
    expect(() => requireBatchControl(auditor, batch)).toThrow(AccessDeniedError);
  });

  it('gives batch.manage.own to those who submit, and the API the same rules as the CLI', () => {
    expect(ROLE_NAMES.filter((r) => held(r).includes('batch.manage.own'))).toEqual(['tracer', 'analyst']);
    for (const action of ['resume', 'retry', 'cancel']) {
      expect(accessRule('api', `POST /api/batches/:id/${action}`).anyOf).toEqual(accessRule('cli', action).anyOf);
    }
  });
});

/** Arguments that make each of these modules' commands do real work once past the access check. */
const INVOCATIONS: Record<string, string[]> = {
  'users add': ['users', 'add', 'newcomer', '--role', 'tracer'],
  'users passwd': ['users', 'passwd', 'target'],
  'users disable': ['users', 'disable', 'target'],
  'users enable': ['users', 'enable', 'target'],
  'users set-roles': ['users', 'set-roles', 'target', '--role', 'analyst'],
  'users list': ['users', 'list'],
  'users accept-store': ['users', 'accept-store'],
  'users roles': ['users', 'roles'],
  'audit verify': ['audit', 'verify'],
  'audit search': ['audit', 'search'],
  // Port 1: an allowed caller gets as far as connecting, and fails there, not at the access check.
  'audit migrate': ['audit', 'migrate', '--owner-url', 'postgres://postgres@127.0.0.1:1/none'],
  'audit pin': ['audit', 'pin', '--accept'],
};

describe('the CLI commands of these modules, run as each role', () => {
  let folder: { dir: string; remove: () => Promise<void> };
  let env: Record<string, string>;

  beforeAll(async () => {
    folder = await tempFolder('pds-trace-matrix-');
    env = { PDS_TRACE_DATA_DIR: folder.dir, PDS_TRACE_PASSWORD: GOOD_PASSWORD, PDS_TRACE_NEW_PASSWORD: 'a brand new password' };
    const users = await recordedUsers(folder.dir);
    const passwordHash = await hashPassword(GOOD_PASSWORD, FAST_SCRYPT);
    for (const role of ROLE_NAMES) await users.add({ id: `as-${role}`, roles: [role], kind: 'person', passwordHash });
    await users.add({ id: 'target', roles: ['tracer'], kind: 'person', passwordHash });
  });

  afterAll(async () => {
    await folder.remove();
  });

  it('covers every command these modules register', () => {
    expect(Object.keys(INVOCATIONS).sort()).toEqual(registeredCommandNames().sort());
  });

  for (const [command, args] of Object.entries(INVOCATIONS)) {
    it.each(ROLE_NAMES)(`${command} as %s is allowed or refused as the matrix says`, async (role) => {
      const run = await runCli([...args, '--as', `as-${role}`], env);
      if (expectedAllowed(role, accessRule('cli', command))) {
        // Allowed means it ran: no error at all, except migrate's unreachable database.
        if (command === 'audit migrate') expect(run.error).toMatchObject({ message: expect.stringMatching(/^audit migrate at postgres:\/\/127.0.0.1:1\/none .*ECONNREFUSED/) });
        else expect(run.error, `${command} as ${role}`).toBeUndefined();
      } else {
        expect(run.error).toBeInstanceOf(CliError);
        expect((run.error as CliError).message).toBe(`as-${role} may not use ${command}: needs ${accessRule('cli', command).anyOf.join(', ')}`);
      }
    });
  }
});
