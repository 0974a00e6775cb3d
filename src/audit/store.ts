import path from 'node:path';
import type { Config } from '../config.js';
import type { AuditEvent, AuditEventKind, NewAuditEvent } from './event.js';
import type { ChainHead, VerifyResult } from './hash-chain.js';
import { checkPin, pinOnFirstUse } from './store-pin.js';
import { recordsSupersessionOf } from './superseded-numbers.js';

/**
 * The audit store: where every audited event ends up, in one linear hash chain (MSCA-AUD;
 * ARCHITECTURE property 7). Two implementations: PostgreSQL (`AUDIT_DATABASE_URL`; many writers on
 * many machines, UPDATE/DELETE refused by the database) and an append-only file (single machine).
 */

/** Search keys MSCA-AUD names (user, message id, patient id, date/time), plus kind and batch. */
export interface AuditFilter {
  user?: string;
  messageId?: string;
  /** Events about this patient number, or about any of these (a person's superseded and current numbers). */
  nhsNumber?: string | readonly string[];
  /**
   * SMSP exchanges recording that this number was superseded, or that it replaced another
   * (superseded-numbers.ts): the links a search by NHS number follows.
   */
  supersessionOf?: string;
  batchId?: string;
  kind?: AuditEventKind;
  /** Events at or after this time. */
  from?: Date;
  /** Events strictly before this time. */
  to?: Date;
  /** At most this many events (the first by seq). */
  limit?: number;
}

export interface VerifyOptions {
  /** Heads noted earlier and kept elsewhere: each must still be in the chain with the same hash. */
  expectedHeads?: readonly ChainHead[];
}

export interface AuditStore {
  /** Where the events are, for messages (no credentials). */
  readonly location: string;
  /**
   * Numbers, chains and stores the events in order, as one unit. Durable when the promise resolves
   * (file: fsync; PostgreSQL: commit), so a row's result may count as done only after it resolves.
   */
  append(events: readonly NewAuditEvent[]): Promise<AuditEvent[]>;
  /**
   * The chain's head after every append so far, checked as an append would check it: a witness to
   * keep outside the store (each batch summary records one; `audit verify --witnesses`).
   */
  currentHead(): Promise<ChainHead>;
  /** Matching events in seq order, at most `filter.limit`. */
  search(filter?: AuditFilter): Promise<AuditEvent[]>;
  /** Matching events in seq order, streamed: for exports of any size. */
  events(filter?: AuditFilter): AsyncIterable<AuditEvent>;
  /** Writes matching events to a CSV file (owner-only, atomic); returns how many. */
  exportCsv(file: string, filter?: AuditFilter): Promise<number>;
  /** Checks the whole chain against the store's anchor (and any expected heads). */
  verify(options?: VerifyOptions): Promise<VerifyResult>;
  close(): Promise<void>;
}

export function matchesFilter(event: AuditEvent, filter: AuditFilter): boolean {
  if (filter.user !== undefined && event.user !== filter.user) return false;
  if (filter.messageId !== undefined && event.messageId !== filter.messageId) return false;
  if (filter.nhsNumber !== undefined && (event.nhsNumber === undefined || !nhsNumbersOf(filter).includes(event.nhsNumber))) return false;
  if (filter.supersessionOf !== undefined && !recordsSupersessionOf(event, filter.supersessionOf)) return false;
  if (filter.batchId !== undefined && event.batchId !== filter.batchId) return false;
  if (filter.kind !== undefined && event.kind !== filter.kind) return false;
  const time = Date.parse(event.time);
  if (filter.from !== undefined && time < filter.from.getTime()) return false;
  if (filter.to !== undefined && time >= filter.to.getTime()) return false;
  return true;
}

/** The numbers an `nhsNumber` filter names, as a list. */
export function nhsNumbersOf(filter: AuditFilter): readonly string[] {
  return filter.nhsNumber === undefined ? [] : typeof filter.nhsNumber === 'string' ? [filter.nhsNumber] : filter.nhsNumber;
}

/** The file store's folder under the data folder. */
export function auditDir(dataDir: string): string {
  return path.join(dataDir, 'audit');
}

/**
 * The store the configuration names: PostgreSQL when `AUDIT_DATABASE_URL` is set, else the file
 * store under `<dataDir>/audit/`; refused (AuditStorePinError, exit 3) when the data folder is
 * pinned to another store (store-pin.ts), and pinned to this one at first use. The PostgreSQL schema must already exist (`pds-trace audit
 * migrate`): the application role cannot create it, by design.
 */
export async function openAuditStore(config: Pick<Config, 'dataDir' | 'auditDatabaseUrl'>, options: OpenAuditStoreOptions = {}): Promise<AuditStore> {
  if (!options.ignorePin) await checkPin(config);
  const store = await openConfiguredStore(config);
  // After opening, so that a file store in an unused folder starts its chain before the pin says
  // the folder was used.
  await pinOnFirstUse(config);
  return store;
}

export interface OpenAuditStoreOptions {
  /** Open the configured store even if the data folder is pinned to another (`audit pin --accept`). */
  ignorePin?: boolean;
}

async function openConfiguredStore(config: Pick<Config, 'dataDir' | 'auditDatabaseUrl'>): Promise<AuditStore> {
  if (config.auditDatabaseUrl) {
    const { openPgAuditStore } = await import('./pg-store.js');
    return openPgAuditStore({ connectionString: config.auditDatabaseUrl });
  }
  const { openFileAuditStore } = await import('./file-store.js');
  return openFileAuditStore(auditDir(config.dataDir), { dataDir: config.dataDir });
}
