import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { AccessDeniedError, requireOwnBatch, type Principal } from '../auth/authorise.js';
import type { Permission } from '../auth/roles.js';
import type { BatchSummary } from '../csv/output/summary.js';
import { TRACE_STATUSES, TRACE_STATUS_MEANING, type TraceStatus } from '../domain/outcome.js';
import { listBatchIds, loadBatch, type BatchMeta, type BatchState } from '../pipeline/batch.js';
import { holdNotice } from '../pipeline/provider-hold.js';
import { describeProvider, isSimulated } from '../pipeline/provider.js';
import { BatchWatcher } from '../pipeline/watch-batch.js';
import { formatLocalTime } from './local-time.js';

/**
 * A batch as the web pages and the JSON API show it, read from its folder the way `pds-trace status`
 * reads it (BatchWatcher), with no patient data: who, when, which file, how far, counts by status.
 */

/** The NHS tag colour and words for each batch state (NHS design system "Tag"). */
const STATE_TAGS: Readonly<Record<BatchState, { text: string; classes: string }>> = {
  created: { text: 'Waiting', classes: 'nhsuk-tag--grey' },
  ingested: { text: 'Tracing', classes: 'nhsuk-tag--blue' },
  assembled: { text: 'Done', classes: 'nhsuk-tag--green' },
  rejected: { text: 'Rejected', classes: 'nhsuk-tag--red' },
  cancelled: { text: 'Cancelled', classes: 'nhsuk-tag--orange' },
};

export interface StatusCount {
  status: TraceStatus;
  meaning: string;
  count: number;
}

export interface BatchView {
  id: string;
  /** The submitted file's name (as the submitter named it). */
  fileName: string;
  state: BatchState;
  tag: { text: string; classes: string };
  submittedBy: string;
  submittedAtIso: string;
  submittedAt: string;
  finishedAt?: string;
  rows?: number;
  done: number;
  byStatus: StatusCount[];
  simulated: boolean;
  provider: string;
  /** Why it waits, when workers on another provider refused it. */
  hold?: string;
  rejection?: string;
  options: { format: string; minimal: boolean; fallbacks: string; dayFirst: boolean };
  /** The results file is there to download. */
  resultsReady: boolean;
  workFilesRemoved: boolean;
}

/** Whether requireOwnBatch lets the principal use `permission` on the batch (read it, download its results). */
export function mayUse(principal: Principal, permission: Permission, meta: BatchMeta): boolean {
  try {
    requireOwnBatch(principal, permission, { id: meta.id, user: meta.options.user });
    return true;
  } catch (err) {
    if (err instanceof AccessDeniedError) return false;
    throw err;
  }
}

/** Counts of a finished batch come from its summary: its work files may be gone. */
async function summaryCounts(meta: BatchMeta): Promise<{ done: number; byStatus: Partial<Record<TraceStatus, number>> } | undefined> {
  if (!meta.outputs) return undefined;
  try {
    const summary = JSON.parse(await readFile(meta.outputs.summaryJson, 'utf8')) as BatchSummary;
    return { done: summary.rows, byStatus: summary.byStatus };
  } catch {
    return undefined;
  }
}

export async function viewBatch(dataDir: string, id: string): Promise<BatchView> {
  const watcher = new BatchWatcher(dataDir, id);
  const meta = await watcher.poll();
  const finished = meta.state === 'assembled' ? await summaryCounts(meta) : undefined;
  const counts = finished ?? watcher.progress;
  return {
    id: meta.id,
    fileName: path.basename(meta.inputPath),
    state: meta.state,
    tag: STATE_TAGS[meta.state],
    submittedBy: meta.options.user,
    submittedAtIso: meta.createdAt,
    submittedAt: formatLocalTime(new Date(meta.createdAt)),
    finishedAt: meta.finishedAt ? formatLocalTime(new Date(meta.finishedAt)) : undefined,
    rows: meta.rows,
    done: counts.done,
    byStatus: TRACE_STATUSES.map((status) => ({ status, meaning: TRACE_STATUS_MEANING[status], count: counts.byStatus[status] ?? 0 })),
    simulated: isSimulated(meta.provider),
    provider: describeProvider(meta.provider),
    hold: watcher.hold ? holdNotice(watcher.hold) : undefined,
    rejection: meta.rejection?.message,
    options: {
      format: meta.options.format,
      minimal: meta.options.minimal,
      fallbacks: meta.options.fallbacks.join(', '),
      dayFirst: meta.options.dayFirst,
    },
    resultsReady: meta.state === 'assembled' && meta.outputs !== undefined,
    workFilesRemoved: meta.workFilesRemoved !== undefined,
  };
}

/** The batches the principal may see, newest first (ids sort by creation time). */
export async function listVisibleBatches(dataDir: string, principal: Principal): Promise<BatchView[]> {
  const ids = (await listBatchIds(dataDir)).reverse();
  const views: BatchView[] = [];
  for (const id of ids) {
    const meta = await loadBatch(dataDir, id).catch(() => undefined);
    // A folder whose record cannot be read is no batch anyone can act on; `pds-trace status` names it.
    if (!meta || !mayUse(principal, 'batch.read.own', meta)) continue;
    views.push(await viewBatch(dataDir, id));
  }
  return views;
}
