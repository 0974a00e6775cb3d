import { constants } from 'node:fs';
import { access, rm, stat, statfs, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../config.js';
import { AuditStoreCorruptError, openFileAuditStore } from '../audit/file-store.js';
import { AuditDatabaseError, AuditSchemaMissingError } from '../audit/pg-errors.js';
import { openPgAuditStore } from '../audit/pg-store.js';
import { auditDir, type AuditStore } from '../audit/store.js';
import { checkPin, isPinned } from '../audit/store-pin.js';
import { USERS_FILE, UserStore } from '../auth/users.js';
import { fail, pass, skip, warn, type DoctorCheck } from './check.js';

/** Below this much free space on the data folder's disk, a night's batch may not fit. */
const LOW_DISK_BYTES = 1024 ** 3;

function errnoCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

export const dataFolderCheck: DoctorCheck = {
  name: 'data-folder',
  title: 'Data folder',
  async run({ config }) {
    const dir = config!.dataDir;
    const info = await stat(dir).catch((err: unknown) => err as NodeJS.ErrnoException);
    if (info instanceof Error) {
      if (info.code === 'ENOENT') return warn(`${dir} does not exist yet`, 'It is created owner-only at first use; to use another place, set PDS_TRACE_DATA_DIR.');
      return fail(`${dir} cannot be read (${info.code})`, 'Give the user that runs pds-trace access to it, or set PDS_TRACE_DATA_DIR.');
    }
    if (!info.isDirectory()) return fail(`${dir} is not a folder`, 'Set PDS_TRACE_DATA_DIR to a folder.');
    const probe = path.join(dir, `.doctor-${process.pid}`);
    try {
      await writeFile(probe, '', { mode: 0o600 });
      await rm(probe);
    } catch (err) {
      return fail(`${dir} is not writable (${errnoCode(err)})`, `Make it writable by the user that runs pds-trace (chown that user ${dir}).`);
    }
    // Batches and results hold patient data: nobody but the service's own user may list or read them.
    if ((info.mode & 0o077) !== 0) {
      return fail(`${dir} is open to other users (mode ${(info.mode & 0o777).toString(8)})`, `Run: chmod 700 ${dir}`);
    }
    const space = await statfs(dir);
    const free = space.bavail * space.bsize;
    if (free < LOW_DISK_BYTES) return warn(`${dir}: only ${gib(free)} free`, 'Free space on that disk or move PDS_TRACE_DATA_DIR: a batch needs about three times its input file while it runs.');
    return pass(`${dir} writable, owner-only, ${gib(free)} free`);
  },
};

/** The configured store for reading only: never pins the folder or starts a chain, as a command would. */
async function openForReading(config: { dataDir: string; auditDatabaseUrl?: string }): Promise<AuditStore | undefined> {
  await checkPin(config);
  const usedBefore = await isPinned(config.dataDir);
  if (config.auditDatabaseUrl) return openPgAuditStore({ connectionString: config.auditDatabaseUrl });
  const dir = auditDir(config.dataDir);
  if (!usedBefore && !(await access(dir, constants.F_OK).then(() => true, () => false))) return undefined;
  // Told the data folder only when it was used before, so that a store gone missing is found missing.
  return openFileAuditStore(dir, usedBefore ? { dataDir: config.dataDir } : {});
}

export const auditCheck: DoctorCheck = {
  name: 'audit',
  title: 'Audit trail',
  // Verifying reads the whole chain: about a second per 100,000 events.
  timeoutMs: 120_000,
  async run({ config }) {
    let store: AuditStore | undefined;
    try {
      store = await openForReading(config!);
      if (!store) return skip('no audit trail yet: it starts with the first command run here');
      const result = await store.verify();
      if (!result.ok) {
        return fail(
          `${store.location}: the chain does not verify (${result.problem.kind} at event ${result.problem.seq}: ${result.problem.detail})`,
          'Run `pds-trace audit verify` for the details, keep the store as it is, and report it to the information governance lead.',
        );
      }
      return pass(`${store.location}: ${result.count} events, chain verifies (head ${result.head.seq}:${result.head.hash.slice(0, 12)}…)`);
    } catch (err) {
      if (err instanceof AuditSchemaMissingError) return fail(err.message, 'An administrator runs `pds-trace audit migrate` once against the database.');
      if (err instanceof AuditDatabaseError) return fail(err.message, 'Check AUDIT_DATABASE_URL and that PostgreSQL is running and reachable.');
      if (err instanceof ConfigError) return fail(err.problems.join('; '), 'See the line above: it names the setting to change.');
      if (err instanceof AuditStoreCorruptError) return fail(`${err.location}: ${err.reason}`, 'Run `pds-trace audit verify`, restore the audit folder from backup and report it to the information governance lead.');
      throw err;
    } finally {
      await store?.close();
    }
  },
};

export const usersCheck: DoctorCheck = {
  name: 'users',
  title: 'Users',
  async run({ config }) {
    const file = path.join(config!.dataDir, USERS_FILE);
    if (!(await access(file, constants.F_OK).then(() => true, () => false))) {
      return warn('no users yet: commands run in simulator mode only', 'Create the first admin: `pds-trace users add <your-id> --role admin`.');
    }
    const users = await (await UserStore.open(config!.dataDir)).list();
    const people = users.filter((u) => u.kind === 'person');
    const admins = people.filter((u) => !u.disabled && u.roles.includes('admin'));
    const services = users.filter((u) => u.kind === 'service');
    const line = `${people.length} people (${admins.length} active admin${admins.length === 1 ? '' : 's'}), ${services.length} service account${services.length === 1 ? '' : 's'}`;
    if (admins.length === 0) return fail(`${line}: no one can manage users`, 'Restore users.json from backup, or have the system owner re-create the first admin on a fresh data folder.');
    return pass(line);
  },
};
