import path from 'node:path';
import type { Principal } from '../auth/authorise.js';
import { localTime } from '../domain/local-time.js';
import { TRACE_STATUSES, TRACE_STATUS_MEANING, type TraceStatus } from '../domain/outcome.js';
import { listBatchIds, loadBatch, type BatchMeta, type BatchState } from '../pipeline/batch.js';
import { snapshotBatch, type BatchStage } from '../pipeline/batch-snapshot.js';
import type { LiveProgress } from '../pipeline/live-progress.js';
import { earlyLowMatch, type LowMatch, type LowMatchSettings } from '../pipeline/low-match.js';
import { holdNotice } from '../pipeline/provider-hold.js';
import { describeProvider, isSimulated } from '../pipeline/provider.js';
import { BatchWatcher, hasEnded } from '../pipeline/watch-batch.js';
import { mayUse } from './batch-access.js';

/**
 * A batch as the web pages and the JSON API show it, with no patient data: who, when, which file,
 * the stage, how far, how fast, counts by status. The figures are the pipeline's one snapshot of a
 * batch (batch-snapshot.ts), the one `pds-trace status --follow` prints.
 */

/** The NHS tag colour and words for each batch state (NHS design system "Tag"). */
const STATE_TAGS: Readonly<Record<BatchState, { text: string; classes: string }>> = {
  created: { text: 'Waiting', classes: 'nhsuk-tag--grey' },
  ingested: { text: 'Tracing', classes: 'nhsuk-tag--blue' },
  assembled: { text: 'Done', classes: 'nhsuk-tag--green' },
  rejected: { text: 'Rejected', classes: 'nhsuk-tag--red' },
  cancelled: { text: 'Cancelled', classes: 'nhsuk-tag--orange' },
};

const STAGE_WORDS: Readonly<Record<BatchStage, string>> = {
  waiting: 'Waiting to be read',
  ingesting: 'Reading and checking the file',
  tracing: 'Tracing with PDS',
  assembling: 'Writing the results',
  done: 'Done',
  rejected: 'Rejected: the file was not traced',
  cancelled: 'Cancelled',
};

export interface StatusCount {
  status: TraceStatus;
  meaning: string;
  count: number;
}

/** What the page needs to follow a batch: the live settings of the web service. */
export interface BatchViewDeps {
  dataDir: string;
  /** Rows of chunks still being traced, as workers report them through Redis (REDIS_URL). */
  live?: LiveProgress;
  lowMatch: LowMatchSettings;
}

export interface BatchView {
  id: string;
  /** The submitted file's name (as the submitter named it). */
  fileName: string;
  state: BatchState;
  tag: { text: string; classes: string };
  stage: BatchStage;
  stageText: string;
  /** The batch will change no more. */
  ended: boolean;
  submittedBy: string;
  submittedAtIso: string;
  submittedAt: string;
  finishedAt?: string;
  rows?: number;
  done: number;
  /** Whole percent of rows done, when the total is known. */
  percent?: number;
  rowsPerSecond: number;
  /** Time left at the current pace, in words, when known. */
  timeLeft?: string;
  byStatus: StatusCount[];
  lowMatch?: LowMatch;
  simulated: boolean;
  provider: string;
  /** Why it waits, when workers on another provider refused it. */
  hold?: string;
  rejection?: string;
  cancelled?: { by: string; at: string };
  options: { format: string; minimal: boolean; fallbacks: string; dayFirst: boolean };
  /** The results file is there to download. */
  resultsReady: boolean;
  workFilesRemoved: boolean;
}

/** "about 3 minutes": a person's reading of the time left, never falsely precise. */
export function timeLeftInWords(seconds: number): string {
  if (seconds < 60) return 'less than a minute';
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `about ${minutes} minute${minutes === 1 ? '' : 's'}`;
  const hours = Math.round(minutes / 60);
  return `about ${hours} hour${hours === 1 ? '' : 's'}`;
}

/** A watcher for one batch; keep it between looks and the pace is measured over them. */
export function batchWatcher(deps: BatchViewDeps, id: string): BatchWatcher {
  return new BatchWatcher(deps.dataDir, id, deps.live);
}

export async function viewBatch(deps: BatchViewDeps, id: string, watcher = batchWatcher(deps, id)): Promise<BatchView> {
  const snapshot = await snapshotBatch(deps.dataDir, watcher);
  const { meta } = snapshot;
  const ended = hasEnded(meta);
  return {
    id: meta.id,
    fileName: path.basename(meta.inputPath),
    state: meta.state,
    tag: STATE_TAGS[meta.state],
    stage: snapshot.stage,
    stageText: STAGE_WORDS[snapshot.stage],
    ended,
    submittedBy: meta.options.user,
    submittedAtIso: meta.createdAt,
    submittedAt: localTime(meta.createdAt),
    finishedAt: meta.finishedAt ? localTime(meta.finishedAt) : undefined,
    rows: meta.rows,
    done: snapshot.done,
    percent: snapshot.total ? Math.floor((snapshot.done * 100) / snapshot.total) : undefined,
    rowsPerSecond: Math.round(snapshot.rowsPerSecond * 10) / 10,
    timeLeft: snapshot.etaSeconds === undefined ? undefined : timeLeftInWords(snapshot.etaSeconds),
    byStatus: TRACE_STATUSES.map((status) => ({ status, meaning: TRACE_STATUS_MEANING[status], count: snapshot.byStatus[status] ?? 0 })),
    // While it can still be stopped: afterwards the summary tells the whole story.
    lowMatch: ended ? undefined : earlyLowMatch(snapshot.byStatus, deps.lowMatch),
    simulated: isSimulated(meta.provider),
    provider: describeProvider(meta.provider),
    hold: watcher.hold ? holdNotice(watcher.hold) : undefined,
    rejection: meta.rejection?.message,
    cancelled: meta.cancelled ? { by: meta.cancelled.by, at: localTime(meta.cancelled.at) } : undefined,
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

/** The batch as JSON for scripts and the page's live updates: ISO times, figures, no markup. */
export function batchJson(view: BatchView) {
  return {
    id: view.id,
    fileName: view.fileName,
    state: view.state,
    stage: view.stage,
    stageText: view.stageText,
    tag: view.tag,
    ended: view.ended,
    submittedBy: view.submittedBy,
    submittedAt: view.submittedAtIso,
    rows: view.rows ?? null,
    done: view.done,
    percent: view.percent ?? null,
    rowsPerSecond: view.rowsPerSecond,
    timeLeft: view.timeLeft ?? null,
    byStatus: Object.fromEntries(view.byStatus.map((c) => [c.status, c.count])),
    lowMatch: view.lowMatch ?? null,
    hold: view.hold ?? null,
    simulated: view.simulated,
    provider: view.provider,
  };
}

/** The batches the principal may see, newest first (ids sort by creation time). */
export async function listVisibleBatches(deps: BatchViewDeps, principal: Principal): Promise<BatchView[]> {
  const ids = (await listBatchIds(deps.dataDir)).reverse();
  const views: BatchView[] = [];
  for (const id of ids) {
    const meta = await loadBatch(deps.dataDir, id).catch(() => undefined);
    // A folder whose record cannot be read is no batch anyone can act on; `pds-trace status` names it.
    if (!meta || !mayUse(principal, 'batch.read.own', meta)) continue;
    views.push(await viewBatch(deps, id));
  }
  return views;
}
