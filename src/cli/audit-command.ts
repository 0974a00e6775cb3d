import path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { CliError, EXIT } from './errors.js';
import { loadConfig } from '../config.js';
import {
  cliAction,
  PendingAudit,
  processCliIo,
  signInOption,
  withBufferedCliSession,
  withCliSession,
  type CliDeps,
  type CliIo,
} from './sign-in-session.js';
import { AUDIT_EVENT_KINDS, type AuditEvent, type AuditEventKind } from '../audit/event.js';
import type { ChainHead, VerifyResult } from '../audit/hash-chain.js';
import { DEFAULT_APP_ROLE, DEFAULT_AUDIT_SCHEMA, migratePgAuditSchema } from '../audit/pg-schema.js';
import { AuditStoreCorruptError } from '../audit/file-store.js';
import { openAuditStore } from '../audit/store.js';
import { describePin, pinOf, readPin, samePin, writePin } from '../audit/store-pin.js';
import { writeAuditCsv } from '../audit/csv-export.js';
import { checkTrail, verifiedOutcome } from '../audit/trail-check.js';
import { prepareTrailSearch, searchedEvent, type TrailQuery } from '../audit/trail-search.js';

/**
 * `pds-trace audit verify | search | pin | migrate`: the auditor's tools (audit.verify, audit.read)
 * and the administrator's store set-up (config.change): which store the data folder uses, and the
 * PostgreSQL schema. Searches and verifications are themselves audited: who looked at the trail,
 * for which patient, and what verify found.
 */

/** Lines printed by a search without `--csv` unless `--limit` says otherwise. */
export const DEFAULT_SEARCH_LIMIT = 100;

function defaultDeps(): CliDeps {
  const io = processCliIo();
  return { io, config: () => loadConfig(io.env) };
}

function timeArg(value: string): Date {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new InvalidArgumentError('an ISO 8601 date or time, e.g. 2025-01-31 or 2025-01-31T09:00:00Z (UTC unless a zone is given)');
  return new Date(ms);
}

function nhsNumberArg(value: string): string {
  const digits = value.replace(/[\s-]/g, '');
  if (!/^\d{10}$/.test(digits)) throw new InvalidArgumentError('ten digits');
  return digits;
}

function limitArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a positive whole number');
  return n;
}

function headArg(value: string, previous: ChainHead[] = []): ChainHead[] {
  const m = /^(\d+):([0-9a-f]{64})$/.exec(value);
  if (!m) throw new InvalidArgumentError('<seq>:<hash> as printed by an earlier `audit verify`');
  return [...previous, { seq: Number(m[1]), hash: m[2]! }];
}

export function describeVerifyResult(result: VerifyResult): string {
  if (!result.ok && result.problem.kind === 'missing_events') return `audit trail NOT intact: missing_events: ${result.problem.detail}\n`;
  if (!result.ok) return `audit trail NOT intact: ${result.problem.kind} at event ${result.problem.seq}: ${result.problem.detail}\n`;
  const lines = [`audit trail intact: ${result.count} events; head ${result.head.seq}:${result.head.hash}`];
  if (result.unanchored > 0) {
    lines.push(`note: ${result.unanchored} events after the store's anchor (a crash between append and anchor update, or events added outside pds-trace)`);
  }
  return `${lines.join('\n')}\n`;
}

const SEARCH_COLUMNS: readonly (keyof AuditEvent)[] = ['seq', 'time', 'kind', 'user', 'role', 'batchId', 'row', 'interaction', 'messageId', 'nhsNumber', 'outcome', 'detail'];

function searchLine(event: AuditEvent): string {
  return SEARCH_COLUMNS.map((c) => (event[c] === undefined ? '-' : String(event[c]))).join('\t');
}

interface SearchFlags {
  user?: string;
  messageId?: string;
  nhsNumber?: string;
  batch?: string;
  kind?: AuditEventKind;
  from?: Date;
  to?: Date;
  limit?: number;
  csv?: string;
  as?: string;
}

/** The flags as the search every auditor's tool makes (trail-search.ts). */
function queryOf(flags: SearchFlags): TrailQuery {
  return {
    user: flags.user,
    messageId: flags.messageId,
    nhsNumber: flags.nhsNumber,
    batchId: flags.batch,
    kind: flags.kind,
    from: flags.from,
    to: flags.to,
    limit: flags.limit ?? (flags.csv ? undefined : DEFAULT_SEARCH_LIMIT),
  };
}

interface VerifyFlags {
  expectHead?: ChainHead[];
  witnesses?: string[];
  as?: string;
}

function folderArg(value: string, previous: string[] = []): string[] {
  return [...previous, path.resolve(value)];
}

/**
 * Checks the store as found, before this command records anything in it: sign-in waits in a
 * buffer, so a cut or rewritten store is reported rather than refused at sign-in, and the check
 * never reads its own events. The sign-in and the outcome are recorded afterwards, if the store
 * still takes appends (a damaged one refuses: the report says so).
 */
async function verify(deps: CliDeps, io: CliIo, flags: VerifyFlags): Promise<void> {
  const buffer = new PendingAudit();
  const audit = await openAuditStore(deps.config());
  try {
    let result: VerifyResult;
    try {
      result = await withBufferedCliSession(deps, 'audit verify', flags.as, buffer, async (session) => {
        const verified = await checkTrail(audit, session.config.dataDir, flags);
        await session.record([{ kind: 'audit_verified', ...verifiedOutcome(verified) }]);
        return verified;
      }, { checkUserStore: false });
    } catch (err) {
      // A refused sign-in or permission is recorded like any other.
      await audit.append(buffer.events);
      throw err;
    }
    io.stdout.write(describeVerifyResult(result));
    try {
      await audit.append(buffer.events);
    } catch (err) {
      if (result.ok || !(err instanceof AuditStoreCorruptError)) throw err;
      io.stderr.write('note: this verification could not be recorded: the store refuses appends until it is restored.\n');
    }
    if (!result.ok) throw new CliError('the audit trail has been tampered with', EXIT.failure);
  } finally {
    await audit.close();
  }
}

/** The owner URL with the application role as user and no password: what AUDIT_DATABASE_URL should look like. */
function appRoleUrl(ownerUrl: string, role: string): string {
  try {
    const url = new URL(ownerUrl);
    url.username = role;
    url.password = '';
    return url.toString();
  } catch {
    return `postgres://${role}@<host>/<database>`;
  }
}

/**
 * Sign-in is checked before the schema exists, so its events wait in a buffer and go, with the
 * migration's own event, to the store the configuration names once the migration is done.
 */
async function migrate(deps: CliDeps, io: CliIo, flags: { ownerUrl: string; appRole: string; as?: string }): Promise<void> {
  const buffer = new PendingAudit();
  await withBufferedCliSession(deps, 'audit migrate', flags.as, buffer, async (session) => {
    await migratePgAuditSchema(flags.ownerUrl, { appRole: flags.appRole });
    await session.record([{ kind: 'config_changed', outcome: 'migrated', detail: `audit schema ${DEFAULT_AUDIT_SCHEMA} app_role=${flags.appRole}` }]);
    const store = await openAuditStore(session.config);
    try {
      await store.append(buffer.events);
    } finally {
      await store.close();
    }
    if (!session.config.auditDatabaseUrl) io.stderr.write('note: AUDIT_DATABASE_URL is not set, so pds-trace keeps using the file audit store until it is.\n');
  });
  io.stdout.write(
    `audit schema ${DEFAULT_AUDIT_SCHEMA} is ready; role ${flags.appRole} may only insert and read.\n` +
      `Connect pds-trace as ${flags.appRole} (AUDIT_DATABASE_URL=${appRoleUrl(flags.ownerUrl, flags.appRole)}); ` +
      'the owner must not be the runtime role: pds-trace refuses to run as a role that could change the trail.\n',
  );
}

/**
 * Moves the data folder's audit store pin to the store the settings name, on purpose: the one way
 * to change it (store-pin.ts). Recorded in the newly pinned store, with where it was before.
 */
async function acceptPin(deps: CliDeps, io: CliIo, flags: { accept?: boolean; as?: string }): Promise<void> {
  if (!flags.accept) throw new CliError('audit pin changes which audit store this data folder uses: add --accept to confirm', EXIT.usage);
  const buffer = new PendingAudit();
  await withBufferedCliSession(deps, 'audit pin', flags.as, buffer, async (session) => {
    const { dataDir } = session.config;
    const before = await readPin(dataDir);
    const after = pinOf(session.config);
    const store = await openAuditStore(session.config, { ignorePin: true });
    try {
      const was = before ? describePin(before) : 'none';
      // Recorded first: a move that cannot be recorded does not happen.
      await session.record([{ kind: 'config_changed', outcome: 'pinned', detail: `audit store pin ${was} -> ${describePin(after)}` }]);
      await store.append(buffer.events);
      await writePin(dataDir, after);
      io.stdout.write(`This data folder's audit store is now ${describePin(after)} (was ${was}).\n`);
      if (before && !samePin(before, after)) io.stdout.write('Keep the previous store, and the batch summaries that witness it, for the audit retention period.\n');
    } finally {
      await store.close();
    }
    // users.json's digest lives in the trail being moved away from, which the settings no longer
    // open: the admin is checked against the role rules only (README, "Keeping the audit trail
    // trustworthy"), and an admin accepts the user store in the new trail afterwards.
  }, { checkUserStore: false });
}

export function registerAuditCommand(program: Command, deps: CliDeps = defaultDeps()): void {
  const { io } = deps;
  const audit = program.command('audit').description('the tamper-evident audit trail: verify, search, export');

  audit
    .command('verify')
    .description('check the audit trail as found against its hash chain, anchor, the chain heads batch summaries witnessed and the exchanges in batch folders; exit 1 if anything was changed')
    .option('--expect-head <seq:hash>', 'a head printed by an earlier verify and kept elsewhere (repeatable)', headArg)
    .option('--witnesses <folder>', 'also check the chain heads recorded in this folder’s batch summaries (a data folder or copied *.summary.json; repeatable)', folderArg)
    .addOption(signInOption())
    .action(
      cliAction(async (flags: VerifyFlags) => {
        await verify(deps, io, flags);
      }),
    );

  audit
    .command('search')
    .description(`find audit events (all filters combine); prints the first ${DEFAULT_SEARCH_LIMIT} unless --limit or --csv`)
    .option('--user <id>', 'events of this user')
    .option('--message-id <id>', 'events of this SMSP message')
    .option('--nhs-number <number>', 'events about this patient, under this number and any it superseded or was superseded by', nhsNumberArg)
    .option('--batch <id>', 'events of this batch')
    .addOption(new Option('--kind <kind>', 'events of this kind').choices(AUDIT_EVENT_KINDS))
    .option('--from <time>', 'events at or after this time', timeArg)
    .option('--to <time>', 'events before this time', timeArg)
    .option('--limit <n>', 'at most this many events', limitArg)
    .option('--csv <file>', 'write the events to this CSV file (owner-only) instead of the terminal')
    .addOption(signInOption())
    .action(
      cliAction(async (flags: SearchFlags) => {
        await withCliSession(deps, 'audit search', flags.as, async (session) => {
          const query = queryOf(flags);
          const search = await prepareTrailSearch(session.audit, query);
          const { filter, numbers, matchedUnder: matched } = search;
          for (const link of numbers?.links ?? []) {
            io.stderr.write(`note: ${link.superseded} was superseded by ${link.replacement} (event ${link.seq}): events under both numbers are included.\n`);
          }
          let count: number;
          if (flags.csv) {
            const file = path.resolve(flags.csv);
            count = await writeAuditCsv(file, session.audit.events(filter), matched && { name: 'matched_under', value: matched });
            io.stdout.write(`${count} events written to ${file}\n`);
          } else {
            const events = await session.audit.search(filter);
            count = events.length;
            io.stdout.write(`${[...SEARCH_COLUMNS, ...(matched ? ['matchedUnder'] : [])].join('\t')}\n`);
            for (const event of events) io.stdout.write(`${searchLine(event)}${matched ? `\t${matched(event)}` : ''}\n`);
          }
          await session.record([searchedEvent(query, search, count, flags.csv ? 'exported' : 'listed')]);
        });
      }),
    );

  audit
    .command('pin')
    .description('make the audit store the settings name (AUDIT_DATABASE_URL, or the file store) the one this data folder uses')
    .option('--accept', 'confirm the change; it is recorded in the newly pinned store')
    .addOption(signInOption())
    .action(
      cliAction(async (flags: { accept?: boolean; as?: string }) => {
        await acceptPin(deps, io, flags);
      }),
    );

  audit
    .command('migrate')
    .description('create or update the PostgreSQL audit schema (append-only) and its insert-only application role')
    .requiredOption('--owner-url <url>', 'PostgreSQL URL of a role that may create the schema (and roles); not AUDIT_DATABASE_URL')
    .option('--app-role <name>', 'the runtime role to create (if missing) with INSERT and SELECT only; AUDIT_DATABASE_URL should use it', DEFAULT_APP_ROLE)
    .addOption(signInOption())
    .action(
      cliAction(async (flags: { ownerUrl: string; appRole: string; as?: string }) => {
        await migrate(deps, io, flags);
      }),
    );
}
