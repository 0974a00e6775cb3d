import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessDeniedError, requireAccess } from '../../src/auth/authorise.js';
import { hashPassword } from '../../src/auth/password.js';
import { ROLE_NAMES, type Role } from '../../src/auth/roles.js';
import { EXIT } from '../../src/cli/errors.js';
import { MISUSE_WARNING } from '../../src/cli/sign-in-session.js';
import { tempFolder } from '../audit/fixtures.js';
import { recordedUsers } from '../support/accounts.js';
import { FAST_SCRYPT, GOOD_PASSWORD } from '../auth/fixtures.js';
import { BUILT_CLI, ensureBuiltCli } from '../support/built-cli.js';

/**
 * Every command pds-trace registers, walked from its own `--help` in real processes: each warns
 * (Computer Misuse Act) and names who is signed in, on standard error only, so standard output
 * carries nothing but the command's data. Each runs as a role the matrix refuses it, so it stops
 * right after sign-in (exit 6) and has no side effects; `users roles`, open to everyone, runs.
 */

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function pdsTrace(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      // The built command, as installed: dozens of processes without a TypeScript loader each.
      [BUILT_CLI, ...args],
      { cwd: REPO, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'warn', ...env }, timeout: 120_000 },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** `name <arg> [opt]` lines of a help text's "Commands:" section, without `help`. */
function listedCommands(help: string): { name: string; usage: string }[] {
  const section = help.split(/^Commands:$/m)[1] ?? '';
  return [...section.matchAll(/^ {2}(\S+)((?: [[<][^\]>]+[\]>])*)/gm)]
    .map((m) => ({ name: m[1]!, usage: m[2]!.trim() }))
    .filter((c) => c.name !== 'help');
}

/**
 * Options a command cannot be parsed without (commander stops before the action), and the one
 * confirmation a command asks for before it signs in. A new command with a required option fails
 * this test with commander's message until it is added here.
 */
const NEEDED_TO_PARSE: Record<string, string[]> = {
  'users add': ['--role', 'tracer'],
  'users set-roles': ['--role', 'tracer'],
  'audit migrate': ['--owner-url', 'postgres://postgres@127.0.0.1:1/none'],
  'audit pin': ['--accept'],
};

/**
 * Commands that sign nobody in, each for a reason: `doctor` reports health only (no patient data,
 * no secret) and must work when sign-in itself is broken; `serve` signs people in on its pages.
 */
const WITHOUT_SIGN_IN = new Set(['doctor', 'serve']);

/** A role the matrix refuses the command to, or undefined when every role may use it. */
function refusedRole(command: string): Role | undefined {
  return ROLE_NAMES.find((role) => {
    try {
      requireAccess({ userId: 'x', roles: [role], kind: 'person' }, 'cli', command);
      return false;
    } catch (err) {
      if (err instanceof AccessDeniedError) return true;
      throw err;
    }
  });
}

describe('every pds-trace command', () => {
  let folder: { dir: string; remove: () => Promise<void> };
  let env: Record<string, string>;
  let commands: { name: string; args: string[] }[];

  beforeAll(async () => {
    ensureBuiltCli();
    folder = await tempFolder('pds-trace-every-command-');
    env = { PDS_TRACE_DATA_DIR: folder.dir, PDS_TRACE_PASSWORD: GOOD_PASSWORD };
    const users = await recordedUsers(folder.dir);
    const passwordHash = await hashPassword(GOOD_PASSWORD, FAST_SCRYPT);
    await users.add({ id: 'as-admin', roles: ['admin'], kind: 'person', passwordHash });
    for (const role of ROLE_NAMES.filter((r) => r !== 'admin')) await users.add({ id: `as-${role}`, roles: [role], kind: 'person', passwordHash });

    // The walk: top-level commands, and the subcommands of those that have some.
    commands = [];
    for (const top of listedCommands((await pdsTrace(['--help'])).stdout)) {
      const subs = top.usage === '' ? listedCommands((await pdsTrace([top.name, '--help'])).stdout) : [];
      for (const leaf of subs.length > 0 ? subs.map((s) => ({ name: `${top.name} ${s.name}`, usage: s.usage })) : [top]) {
        // A placeholder for each required argument (`<id>`: a user the caller is not).
        const positional = [...leaf.usage.matchAll(/<[^>]+>/g)].map(() => 'someone-else');
        const extra = NEEDED_TO_PARSE[leaf.name] ?? [];
        commands.push({ name: leaf.name, args: [...leaf.name.split(' '), ...positional, ...extra] });
      }
    }
  }, 180_000);

  afterAll(async () => {
    await folder.remove();
  });

  it('includes the batch, simulator, users and audit commands', () => {
    const names = commands.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['trace', 'worker', 'status', 'resume', 'simulator', 'cohort', 'users add', 'users roles', 'users enable', 'audit verify', 'audit search', 'audit pin']));
    // Only leaves: a group such as `users` is walked, not run.
    expect(names).not.toContain('users');
  });

  it('warns and names who is signed in, on standard error only', async () => {
    const problems: string[] = [];
    expect(commands.map((c) => c.name)).toEqual(expect.arrayContaining(['doctor']));
    const pending = commands.filter((c) => !WITHOUT_SIGN_IN.has(c.name));
    // A few at a time: each is a Node process with its own TypeScript loader.
    await Promise.all(
      Array.from({ length: 3 }, async () => {
        for (let command = pending.shift(); command; command = pending.shift()) {
          const role = refusedRole(command.name) ?? 'tracer';
          const run = await pdsTrace([...command.args, '--as', `as-${role}`], env);
          const label = `${command.args.join(' ')} --as as-${role}`;
          const [first, second] = run.stderr.split('\n');
          if (first !== MISUSE_WARNING) problems.push(`${label}: stderr starts ${JSON.stringify(first)}`);
          if (!second?.startsWith(`Signed in as as-${role} (${role}) for `)) problems.push(`${label}: no "Signed in as" after the warning: ${JSON.stringify(run.stderr)}`);
          if (run.stdout.includes(MISUSE_WARNING) || run.stdout.includes('Signed in as')) problems.push(`${label}: banner on stdout`);
          const expected = refusedRole(command.name) ? EXIT.denied : EXIT.ok;
          if (run.code !== expected) problems.push(`${label}: exit ${run.code}, expected ${expected}: ${run.stderr}`);
        }
      }),
    );
    expect(problems).toEqual([]);
  }, 600_000);
});
