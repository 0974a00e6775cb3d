import type { ChainHead, VerifyResult } from './hash-chain.js';
import type { AuditStore } from './store.js';
import { collectWitnesses, findMissingEvents, nameWitness, withMissingEvents } from './witnesses.js';

/**
 * The whole check of the trail, as `pds-trace audit verify` and the web's `POST /api/audit/verify`
 * make it: the chain against its anchor, heads noted elsewhere, the heads batch summaries
 * witnessed (in the data folder and any other folders named), and the exchanges batch folders
 * recorded that the trail should hold.
 */
export async function checkTrail(store: AuditStore, dataDir: string, options: { expectHead?: ChainHead[]; witnesses?: string[] } = {}): Promise<VerifyResult> {
  const witnesses = (await Promise.all([dataDir, ...(options.witnesses ?? [])].map(collectWitnesses))).flat();
  const expectedHeads = [...(options.expectHead ?? []), ...witnesses.map((w) => w.head)];
  const result = nameWitness(await store.verify({ expectedHeads }), witnesses);
  return withMissingEvents(result, result.ok ? await findMissingEvents(store, dataDir) : []);
}

/** The `audit_verified` event's outcome and detail for a verification's result. */
export function verifiedOutcome(result: VerifyResult): { outcome: string; detail: string } {
  return result.ok ? { outcome: 'intact', detail: `events=${result.count} head=${result.head.seq}` } : { outcome: result.problem.kind, detail: `seq=${result.problem.seq} events=${result.count}` };
}
