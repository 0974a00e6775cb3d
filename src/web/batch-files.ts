import { createReadStream } from 'node:fs';
import path from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../auth/authorise.js';
import type { BatchMeta, BatchOutputs } from '../pipeline/batch.js';
import { OUTPUT_WORDS } from '../pipeline/output-words.js';
import { auditAs } from './access-hook.js';
import { sendProblem } from './problems.js';
import type { WebContext } from './server.js';

/**
 * A finished batch's output files as downloads (`GET /api/batches/:id/files/:kind`, and the results
 * at `/api/batches/:id/results` too): patient data, so only ever to the batch's submitter (the
 * caller's batchFor), never cached (`no-store`), and each download recorded in the audit trail as
 * the results download always was.
 */

/** The `:kind` of each output in URLs: readable, stable, and no patient data. */
export const FILE_KINDS = {
  results: 'results',
  audit: 'audit',
  'summary.json': 'summaryJson',
  'summary.html': 'summaryHtml',
  'back-office': 'backOffice',
  discrepancies: 'discrepancies',
} as const satisfies Record<string, keyof BatchOutputs>;

export type FileKind = keyof typeof FILE_KINDS;

export function isFileKind(value: string): value is FileKind {
  return Object.hasOwn(FILE_KINDS, value);
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.csv': 'text/csv; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};

/** `Content-Disposition` for a file name that may hold any character (RFC 6266 / 5987). */
export function attachment(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}

/** The downloads a finished batch offers, in the order people read them by. */
export function batchDownloads(meta: BatchMeta): Array<{ kind: FileKind; what: string; fileName: string }> {
  if (meta.state !== 'assembled' || !meta.outputs) return [];
  const outputs = meta.outputs;
  return (Object.entries(FILE_KINDS) as Array<[FileKind, keyof BatchOutputs]>)
    .filter(([, key]) => outputs[key] !== undefined)
    .map(([kind, key]) => ({ kind, what: OUTPUT_WORDS[key], fileName: path.basename(outputs[key]) }));
}

/** Streams one output of `meta` (already checked to be the caller's) as an attachment, audited. */
export async function sendBatchFile(ctx: WebContext, request: FastifyRequest, reply: FastifyReply, meta: BatchMeta, kind: FileKind): Promise<FastifyReply> {
  if (meta.state !== 'assembled' || !meta.outputs) return sendProblem(request, reply, 409, 'not_ready', `Batch ${meta.id} is ${meta.state}: its files can be downloaded when it is done.`);
  const file = meta.outputs[FILE_KINDS[kind]];
  const stream = createReadStream(file);
  // Opened before the download is audited and answered: a file removed since is an error, not an empty download.
  await new Promise<void>((resolve, reject) => stream.once('open', () => resolve()).once('error', reject));
  await ctx.audit.append(auditAs(ctx, request.principal as Principal, [{ kind: 'results_downloaded', batchId: meta.id, outcome: 'sent', detail: `surface=web file=${kind}` }]));
  return reply
    .header('Cache-Control', 'no-store')
    .header('Content-Disposition', attachment(path.basename(file)))
    .type(CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream')
    .send(stream);
}
