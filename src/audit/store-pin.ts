import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, type Config } from '../config.js';
import { writeFileAtomic } from '../csv/output/atomic-file.js';
import { DEFAULT_AUDIT_SCHEMA } from './pg-schema.js';

/**
 * Which audit store a data folder uses, recorded at first use in `<dataDir>/audit-store.json`.
 * Without it, one command run with `AUDIT_DATABASE_URL` unset (or pointing at another database)
 * would write its exchanges to a store nobody checks — for a file store, one the OS user can
 * rewrite. With it, such a command refuses to start (exit 3) and names the setting.
 *
 * The pin identifies a PostgreSQL store by host, port, database and schema: never user or
 * password, so changing the runtime role's credentials is not a move. Moving the store on purpose
 * is an admin's `pds-trace audit pin --accept`, itself audited.
 *
 * The pin also tells the file store that the data folder used it before: a file store missing
 * while the pin names it was deleted, not never created (file-store.ts refuses to start a new
 * chain). A folder moved from PostgreSQL to the file store starts one.
 */

export const PIN_FILE = 'audit-store.json';

export type StorePin = { store: 'file' } | { store: 'postgresql'; host: string; port: number; database: string; schema: string };

/** A pin as written: when it was set, so an operator can tell a long-standing pin from a new one. */
type PinRecord = StorePin & { pinnedAt: string };

/** The command's settings point at another audit store than the data folder's pin. */
export class AuditStorePinError extends ConfigError {
  constructor(
    readonly pinned: StorePin,
    readonly configured: StorePin,
    pinFile: string,
  ) {
    super([
      `AUDIT_DATABASE_URL: ${configured.store === 'file' ? 'unset (the file store)' : `points at ${describePin(configured)}`}, ` +
        `but this data folder's audit store is ${describePin(pinned)} (pinned in ${pinFile}). ` +
        `Set AUDIT_DATABASE_URL ${pinned.store === 'file' ? 'to nothing' : 'to that database'}; to move the audit store on purpose, an admin runs \`pds-trace audit pin --accept\``,
    ]);
  }
}

export function describePin(pin: StorePin): string {
  return pin.store === 'file' ? 'the file store under <dataDir>/audit' : `PostgreSQL ${pin.host}:${pin.port}/${pin.database} (schema ${pin.schema})`;
}

/** The store the configuration names, as a pin. */
export function pinOf(config: Pick<Config, 'auditDatabaseUrl'>): StorePin {
  if (!config.auditDatabaseUrl) return { store: 'file' };
  const url = new URL(config.auditDatabaseUrl);
  return {
    store: 'postgresql',
    host: url.hostname.toLowerCase(),
    port: Number(url.port || 5432),
    database: decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres',
    schema: DEFAULT_AUDIT_SCHEMA,
  };
}

export function pinPath(dataDir: string): string {
  return path.join(dataDir, PIN_FILE);
}

export function samePin(a: StorePin, b: StorePin): boolean {
  if (a.store === 'file' || b.store === 'file') return a.store === b.store;
  return a.host === b.host && a.port === b.port && a.database === b.database && a.schema === b.schema;
}

/** Whether the data folder has a pin: it was used before. */
export async function isPinned(dataDir: string): Promise<boolean> {
  return stat(pinPath(dataDir)).then(
    () => true,
    (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? false : Promise.reject(err)),
  );
}

export async function readPin(dataDir: string): Promise<StorePin | undefined> {
  let text: string;
  try {
    text = await readFile(pinPath(dataDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let record: Partial<PinRecord>;
  try {
    record = JSON.parse(text) as Partial<PinRecord>;
  } catch {
    record = {};
  }
  if (record.store === 'file') return { store: 'file' };
  if (record.store === 'postgresql' && typeof record.host === 'string' && typeof record.port === 'number' && typeof record.database === 'string' && typeof record.schema === 'string') {
    return { store: 'postgresql', host: record.host, port: record.port, database: record.database, schema: record.schema };
  }
  // A damaged pin is not "no pin": that would let the next command re-pin anywhere.
  throw new ConfigError([`${PIN_FILE}: ${pinPath(dataDir)} is not an audit store pin; restore it from backup or have an admin run \`pds-trace audit pin --accept\``]);
}

export async function writePin(dataDir: string, pin: StorePin): Promise<void> {
  const record: PinRecord = { ...pin, pinnedAt: new Date().toISOString() };
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(pinPath(dataDir), `${JSON.stringify(record)}\n`);
}

/** Throws {@link AuditStorePinError} when the data folder is pinned to another store than `config` names. */
export async function checkPin(config: Pick<Config, 'dataDir' | 'auditDatabaseUrl'>): Promise<void> {
  const pinned = await readPin(config.dataDir);
  const configured = pinOf(config);
  if (pinned && !samePin(pinned, configured)) throw new AuditStorePinError(pinned, configured, pinPath(config.dataDir));
}

/** Pins the data folder to the store `config` names, if it has no pin yet (first use). */
export async function pinOnFirstUse(config: Pick<Config, 'dataDir' | 'auditDatabaseUrl'>): Promise<void> {
  if (!(await isPinned(config.dataDir))) await writePin(config.dataDir, pinOf(config));
}
