import { localTime } from '../domain/local-time.js';
import { OUTPUT_WORDS } from '../pipeline/output-words.js';
import path from 'node:path';
import type { BatchMeta, BatchOutputs } from '../pipeline/batch.js';
import { snapshotBatch } from '../pipeline/batch-snapshot.js';
import { describeProvider, isSimulated } from '../pipeline/provider.js';
import { holdNotice } from '../pipeline/provider-hold.js';
import { chunkJobStates, type ChunkJobStates, type PipelineQueues } from '../pipeline/queues.js';
import { formatRemoval } from '../pipeline/retention.js';
import { BatchWatcher } from '../pipeline/watch-batch.js';

/**
 * `pds-trace status <batch>` in full: who submitted it and when, the file, the options, the
 * provider (SIMULATED, loudly, when so), the state, counts by status, the outputs in words and what
 * is left, with why it waits. One object, printed as text or as JSON, so both say the same.
 */
export interface BatchStatusReport {
  id: string;
  state: BatchMeta['state'];
  submitted: { by: string; at: string; local: string };
  file: { name: string; path: string; sha256: string };
  options: { format: string; minimal: boolean; fallbacks: string[]; mapping: string | null; chunkSize: number; bom: boolean; monthFirst: boolean; outDir: string };
  provider: { description: string; simulated: boolean };
  rows: { total: number | null; done: number; byStatus: Record<string, number> };
  /** What is left to trace; absent once the batch has ended. */
  remaining?: { chunks: number; rows: number };
  /** Why it is not moving, or what would move it, in words. */
  waiting: string[];
  outputs: Array<{ what: string; path: string }>;
  finished?: { at: string; local: string };
  cancelled?: { by: string; at: string; local: string; from: string };
  rejection?: { reason: string; message: string };
  workFilesRemoved?: string;
}


/** Where the queue is, for `status`: open queues, none configured, or Redis not answering. */
export type QueueView = { kind: 'queues'; queues: PipelineQueues } | { kind: 'none' } | { kind: 'unreachable'; message: string };

export async function batchStatusReport(dataDir: string, watcher: BatchWatcher, queue: QueueView): Promise<BatchStatusReport> {
  const snapshot = await snapshotBatch(dataDir, watcher);
  const { meta } = snapshot;
  const report: BatchStatusReport = {
    id: meta.id,
    state: meta.state,
    submitted: { by: meta.options.user, at: meta.createdAt, local: localTime(meta.createdAt) },
    file: { name: path.basename(meta.inputPath), path: meta.inputPath, sha256: meta.inputSha256 },
    options: {
      format: meta.options.format,
      minimal: meta.options.minimal,
      fallbacks: meta.options.fallbacks,
      mapping: meta.options.mappingFile ?? null,
      chunkSize: meta.options.chunkSize,
      bom: meta.options.bom,
      monthFirst: !meta.options.dayFirst,
      outDir: meta.options.outDir,
    },
    provider: { description: describeProvider(meta.provider), simulated: isSimulated(meta.provider) },
    rows: { total: meta.rows ?? null, done: snapshot.done, byStatus: Object.fromEntries(Object.entries(snapshot.byStatus).filter(([, n]) => n > 0)) },
    waiting: [],
    outputs: meta.outputs ? (Object.keys(OUTPUT_WORDS) as Array<keyof BatchOutputs>).filter((k) => meta.outputs![k] !== undefined).map((k) => ({ what: OUTPUT_WORDS[k], path: meta.outputs![k] })) : [],
    ...(meta.finishedAt && { finished: { at: meta.finishedAt, local: localTime(meta.finishedAt) } }),
    ...(meta.cancelled && { cancelled: { ...meta.cancelled, local: localTime(meta.cancelled.at) } }),
    ...(meta.rejection && { rejection: meta.rejection }),
    ...(meta.workFilesRemoved && { workFilesRemoved: formatRemoval(meta.workFilesRemoved) }),
  };
  if (meta.state === 'created') {
    report.waiting.push('its file has not been read yet (ingest)');
    report.waiting.push(...(await queueReasons(meta, [], queue)));
  }
  if (snapshot.remaining) {
    report.remaining = snapshot.remaining;
    if (watcher.hold) report.waiting.push(`${holdNotice(watcher.hold)} (since ${localTime(watcher.hold.since)})`);
    report.waiting.push(...(await queueReasons(meta, snapshot.chunksLeft ?? [], queue)));
  }
  return report;
}

/** What the queue says about the chunks left, in words. */
async function queueReasons(meta: BatchMeta, chunksLeft: number[], queue: QueueView): Promise<string[]> {
  const resume = `\`pds-trace resume ${meta.id}\``;
  if (queue.kind === 'none') return [`no queue (REDIS_URL is not set): it moves only while the \`trace\` or \`resume\` that runs it is running; if none is, ${resume} finishes it`];
  if (queue.kind === 'unreachable') return [`queue state unknown: ${queue.message}`];
  if (meta.state === 'created') return [];
  const states: ChunkJobStates = await chunkJobStates(queue.queues, meta.id, chunksLeft);
  const reasons: string[] = [];
  if (chunksLeft.length === 0) return ['every chunk is traced: its outputs are being written'];
  if ((states.missing ?? 0) > 0) reasons.push(`${states.missing} chunk(s) have no queue job (Redis lost them?): ${resume} queues them again`);
  const queued = (states.waiting ?? 0) + (states.prioritized ?? 0);
  if (queued > 0 && !states.active) reasons.push(`${queued} chunk(s) queued and none being traced: is a \`pds-trace worker\` running for ${describeProvider(meta.provider)}?`);
  if ((states.failed ?? 0) > 0) reasons.push(`${states.failed} chunk(s) failed every attempt: see the worker's log, then ${resume}`);
  return reasons;
}

export function formatCounts(byStatus: Record<string, number>): string {
  return Object.entries(byStatus).filter(([, n]) => n > 0).map(([s, n]) => `${s} ${n}`).join(', ');
}

/** One line of the batch list: id, state, rows done of total, file name, counts. */
export function statusLine(report: BatchStatusReport): string {
  const total = report.rows.total === null ? '?' : String(report.rows.total);
  return `${report.id}  ${report.state.padEnd(9)} ${String(report.rows.done).padStart(7)}/${total.padEnd(7)} ${report.file.name}  ${formatCounts(report.rows.byStatus)}`;
}

/** The report as text for a person. */
export function formatStatusReport(r: BatchStatusReport): string {
  const lines: string[] = [];
  const row = (label: string, text: string) => lines.push(`  ${label.padEnd(12)} ${text}`);
  lines.push(`Batch ${r.id}: ${r.state.toUpperCase()}${r.provider.simulated ? '  *** SIMULATED: synthetic answers, not PDS ***' : ''}`);
  row('submitted', `by ${r.submitted.by} on ${r.submitted.local}`);
  row('file', `${r.file.name} (${r.file.path})`);
  const o = r.options;
  row('options', [
    `format ${o.format}`,
    o.minimal ? 'NHS number only (--minimal)' : 'full details',
    `fallbacks ${o.fallbacks.length ? o.fallbacks.join(', ') : 'none'}`,
    `mapping ${o.mapping ?? 'none (headers matched)'}`,
    `${o.chunkSize} rows a chunk`,
    ...(o.monthFirst ? ['dates month first'] : []),
    ...(o.bom ? ['BOM'] : []),
  ].join('; '));
  row('provider', r.provider.simulated ? `SIMULATED: ${r.provider.description} (SYNTHETIC ANSWERS, NOT PDS DATA)` : r.provider.description);
  row('state', stateInWords(r));
  const total = r.rows.total === null ? 'not yet counted' : String(r.rows.total);
  const counts = formatCounts(r.rows.byStatus);
  row('rows', `${r.rows.done} of ${total} done${counts ? `: ${counts}` : ''}`);
  if (r.remaining) row('left', `${r.remaining.rows} row(s) in ${r.remaining.chunks} chunk(s) to trace`);
  for (const reason of r.waiting) row('waiting', reason);
  if (r.outputs.length === 0) row('outputs', r.state === 'cancelled' ? 'none: a cancelled batch is never assembled' : r.state === 'rejected' ? 'none' : 'none yet: written when every row is traced');
  else {
    row('outputs', `in ${r.options.outDir}`);
    for (const output of r.outputs) lines.push(`    ${output.what.padEnd(20)} ${path.basename(output.path)}`);
  }
  if (r.workFilesRemoved) row('work files', `removed ${r.workFilesRemoved}`);
  return `${lines.join('\n')}\n`;
}

function stateInWords(r: BatchStatusReport): string {
  switch (r.state) {
    case 'created':
      return 'submitted, waiting to be read';
    case 'ingested':
      return 'being traced';
    case 'assembled':
      return `finished on ${r.finished?.local ?? '?'}`;
    case 'rejected':
      return `rejected${r.finished ? ` on ${r.finished.local}` : ''}: ${r.rejection?.message ?? 'the file was not traced'}`;
    case 'cancelled':
      return `cancelled by ${r.cancelled?.by ?? '?'} on ${r.cancelled?.local ?? '?'} (it was ${r.cancelled?.from ?? '?'}); what was traced before is kept, nothing more is`;
  }
}
