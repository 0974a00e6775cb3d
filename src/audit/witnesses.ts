import { createReadStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { ChainHead, VerifyResult } from './hash-chain.js';
import type { AuditStore } from './store.js';

/**
 * Evidence about the audit trail kept outside it, which `audit verify` checks the chain against.
 * Whoever can rewrite the file store can re-chain it without some events and re-anchor it; the
 * chain alone then looks whole. Two things it cannot rewrite as easily:
 *
 * - witness heads: each batch's summary records the chain head after its events (`auditHead`,
 *   from {@link AuditStore.currentHead}). A witnessed head that is not on the chain means the chain
 *   was rewritten at or before it. Kept off the machine (copied summaries, `--witnesses <folder>`),
 *   they survive a rewrite of the whole data folder too.
 * - message ids: every exchange in a batch's chunk results (`batches/<id>/results/*.jsonl`) was
 *   audited before its result was written (ARCHITECTURE property 7), so a message id there with
 *   no event in the trail is a deleted event.
 */

/** A head noted outside the store, and where it was found (a path: no patient data). */
export interface Witness {
  head: ChainHead;
  source: string;
}

/** Field of a batch summary (and of batch.json, if the pipeline records it there) holding the head. */
export const WITNESS_FIELD = 'auditHead';

const SUMMARY_SUFFIX = '.summary.json';

function headOf(value: unknown): ChainHead | undefined {
  const head = (value as Record<string, unknown> | null)?.[WITNESS_FIELD] as Partial<ChainHead> | undefined;
  if (typeof head?.seq !== 'number' || !Number.isInteger(head.seq) || typeof head.hash !== 'string' || !/^[0-9a-f]{64}$/.test(head.hash)) return undefined;
  return { seq: head.seq, hash: head.hash };
}

async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch {
    // A missing or unreadable witness is no witness; it does not make the trail suspect.
    return undefined;
  }
}

async function listDir(dir: string): Promise<string[]> {
  return readdir(dir).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' || err.code === 'ENOTDIR' ? [] : Promise.reject(err)));
}

/**
 * Witness heads under `dir`: a data folder (`batches/<id>/batch.json` and the summaries they
 * name) or any folder of copied `*.summary.json` files. One per distinct head.
 */
export async function collectWitnesses(dir: string): Promise<Witness[]> {
  const files = new Set<string>();
  for (const name of await listDir(dir)) if (name.endsWith(SUMMARY_SUFFIX)) files.add(path.join(dir, name));
  const batchesDir = path.join(dir, 'batches');
  for (const id of await listDir(batchesDir)) {
    const metaFile = path.join(batchesDir, id, 'batch.json');
    files.add(metaFile);
    const summary = ((await readJson(metaFile)) as { outputs?: { summaryJson?: unknown } } | undefined)?.outputs?.summaryJson;
    if (typeof summary === 'string') files.add(summary);
  }
  const witnesses = new Map<string, Witness>();
  for (const file of [...files].sort()) {
    const head = headOf(await readJson(file));
    if (head) witnesses.set(`${head.seq}:${head.hash}`, { head, source: file });
  }
  return [...witnesses.values()];
}

/** Names the witness behind an anchor problem, so the auditor knows which record disagrees. */
export function nameWitness(result: VerifyResult, witnesses: readonly Witness[]): VerifyResult {
  if (result.ok || (result.problem.kind !== 'anchor_mismatch' && result.problem.kind !== 'truncated')) return result;
  const problem = result.problem;
  const seq = problem.kind === 'truncated' ? Number(/records event (\d+)/.exec(problem.detail)?.[1]) : problem.seq;
  const witness = witnesses.find((w) => w.head.seq === seq);
  if (!witness) return result;
  return { ...result, problem: { ...problem, detail: `${problem.detail} (witness: ${witness.source})` } };
}

/** Message ids of the exchanges in one batch's chunk results. */
async function resultMessageIds(resultsDir: string): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const name of (await listDir(resultsDir)).filter((n) => n.endsWith('.jsonl')).sort()) {
    const lines = createInterface({ input: createReadStream(path.join(resultsDir, name), { encoding: 'utf8' }), crlfDelay: Infinity });
    for await (const line of lines) {
      let exchanges: unknown;
      try {
        exchanges = (JSON.parse(line) as { exchanges?: unknown }).exchanges;
      } catch {
        continue; // a torn last line of a chunk being written; the chunk is not done
      }
      if (!Array.isArray(exchanges)) continue;
      for (const exchange of exchanges) {
        const id = (exchange as { messageId?: unknown } | null)?.messageId;
        if (typeof id === 'string') ids.add(id);
      }
    }
  }
  return ids;
}

export interface MissingEvents {
  batchId: string;
  /** Exchanges in the batch's results with no audit event. */
  count: number;
  /** One of them, for `audit search --message-id`. */
  example: string;
}

/**
 * Batches under `<dataDir>/batches/` whose results name exchanges the trail does not hold. One
 * batch at a time, so memory is bounded by the largest batch's exchanges, not the trail.
 */
export async function findMissingEvents(store: Pick<AuditStore, 'events'>, dataDir: string): Promise<MissingEvents[]> {
  const missing: MissingEvents[] = [];
  const batchesDir = path.join(dataDir, 'batches');
  for (const batchId of (await listDir(batchesDir)).sort()) {
    const ids = await resultMessageIds(path.join(batchesDir, batchId, 'results'));
    if (ids.size === 0) continue;
    for await (const event of store.events({ batchId })) if (event.messageId !== undefined) ids.delete(event.messageId);
    const [example] = ids;
    if (example !== undefined) missing.push({ batchId, count: ids.size, example });
  }
  return missing;
}

/** The chain check's result, failed when exchanges are missing from the trail. */
export function withMissingEvents(result: VerifyResult, missing: readonly MissingEvents[]): VerifyResult {
  if (!result.ok || missing.length === 0) return result;
  const total = missing.reduce((n, m) => n + m.count, 0);
  const first = missing[0]!;
  const detail =
    `${total} exchange(s) in ${missing.length} batch folder(s) have no audit event: the chain was rewritten without them ` +
    `(batch ${first.batchId}: ${first.count}, e.g. message ${first.example})`;
  return { ok: false, count: result.count, problem: { kind: 'missing_events', seq: result.head.seq + 1, detail } };
}
