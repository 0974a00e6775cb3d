import { createReadStream } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../../auth/authorise.js';
import { FIELD_LABELS, FIELD_NAMES } from '../../csv/input/types.js';
import { loadBatch } from '../../pipeline/batch.js';
import { mayUse } from '../batch-access.js';
import { sendProblem } from '../problems.js';
import { columnsFromForm } from '../upload/column-choice.js';
import { readCsrfPart, receiveUpload } from '../upload/receive-upload.js';
import { readPreview, type UploadPreview } from '../upload/upload-check.js';
import { previewUpload, traceUpload, type UploadContext } from '../upload/upload-flow.js';
import { uploadProblem, type UploadProblem } from '../upload/upload-problems.js';
import type { UploadRecord } from '../upload/upload-store.js';

/**
 * The upload pages: `/upload` takes a CSV; `/upload/:uploadId` shows the check of it before
 * anything is sent (the columns used, changeable; every row that cannot be traced, by row and
 * column; what the batch will ask of SMSP), then traces it through the intake or removes it.
 * The upload id is random and names no patient; only its uploader sees it.
 */

interface ErrorItem {
  text?: string;
  html?: string;
  href: string;
}

type Params = { Params: { uploadId: string } };

export function registerUploadPages(app: FastifyInstance, uc: UploadContext): void {
  const maxBytes = uc.web.config.web.uploadMaxBytes;

  app.get<{ Querystring: { cancelled?: string } }>('/upload', (request, reply) => renderUpload(uc, reply, { cancelled: request.query.cancelled === '1' }));

  app.post('/upload', { preValidation: readCsrfPart(maxBytes) }, async (request, reply) => {
    const principal = request.principal as Principal;
    let record: UploadRecord | undefined;
    try {
      record = (await receiveUpload(request, uc.store, principal.userId, maxBytes)).record;
      await previewUpload(uc, record);
    } catch (err) {
      if (record) await uc.store.remove(record.id);
      // Cut off half-way: nobody is left to answer, and nothing was kept.
      if (request.raw.socket.destroyed) return reply;
      const problem = uploadProblem(err);
      if (!problem) throw err;
      return renderUpload(uc, reply, { errors: [await errorItem(uc, principal, problem, '#file')] }, problem.status);
    }
    return reply.redirect(`/upload/${record.id}`, 303);
  });

  app.get<Params>('/upload/:uploadId', async (request, reply) => {
    const found = await uploadFor(uc, request, reply);
    if (!found) return reply;
    return renderPreview(reply, found.record, found.preview);
  });

  app.post<Params & { Body: Record<string, unknown> }>('/upload/:uploadId', async (request, reply) => {
    const principal = request.principal as Principal;
    const found = await uploadFor(uc, request, reply);
    if (!found) return reply;
    const { record, preview } = found;
    const action = request.body?.action;
    if (action === 'cancel') {
      await uc.store.remove(record.id);
      return reply.redirect('/upload?cancelled=1', 303);
    }
    if (action === 'columns') {
      const changed: UploadRecord = { ...record, columns: columnsFromForm(request.body ?? {}, preview.layout.headers.length) };
      try {
        await previewUpload(uc, changed);
      } catch (err) {
        const problem = uploadProblem(err);
        if (!problem) throw err;
        // The columns asked for cannot be traced: the page as it was, saying why.
        return renderPreview(reply, record, preview, [{ text: `Those columns cannot be used: ${problem.message}`, href: '#columns' }], problem.status);
      }
      await uc.store.save(changed);
      return reply.redirect(`/upload/${record.id}`, 303);
    }
    if (action !== 'trace') return sendProblem(request, reply, 400, 'bad_request', 'Choose "Trace" or "Cancel".');
    try {
      const batch = await traceUpload(uc, principal, record, { format: 'native', minimal: false, again: false });
      return reply.redirect(`/batches/${batch.id}`, 303);
    } catch (err) {
      const problem = uploadProblem(err);
      if (!problem) throw err;
      if (problem.code === 'tracing_unavailable') return renderPreview(reply, record, preview, [{ text: problem.message, href: '#trace' }], problem.status);
      // A duplicate: nothing was made, and the upload goes, as for any file refused.
      await uc.store.remove(record.id);
      return renderUpload(uc, reply, { errors: [await errorItem(uc, principal, problem, '#file')] }, problem.status);
    }
  });

  app.get<Params>('/upload/:uploadId/problems.csv', async (request, reply) => {
    const found = await uploadFor(uc, request, reply);
    if (!found) return reply;
    const name = `${path.parse(found.record.fileName).name}.problems.csv`;
    return reply
      .header('Cache-Control', 'no-store')
      .header('Content-Disposition', `attachment; filename="${name}"`)
      .type('text/csv; charset=utf-8')
      .send(createReadStream(uc.store.problemsPath(found.record.id)));
  });
}

/** The upload named in the route, if it is the signed-in user's, with its check (made again if missing). */
async function uploadFor(uc: UploadContext, request: FastifyRequest<Params>, reply: FastifyReply): Promise<{ record: UploadRecord; preview: UploadPreview } | undefined> {
  const principal = request.principal as Principal;
  const record = await uc.store.get(request.params.uploadId, principal.userId);
  if (!record) {
    sendProblem(request, reply, 404, 'not_found', 'There is no upload with that address that you can see. An upload is removed once it is traced or cancelled, and after a day. Upload the file again.');
    return undefined;
  }
  const saved = await readPreview(uc.store.previewPath(record.id));
  if (saved) return { record, preview: saved };
  // No check saved (the server stopped while checking): check it now, and a file that fails goes.
  try {
    return { record, preview: await previewUpload(uc, record) };
  } catch (err) {
    const problem = uploadProblem(err);
    if (!problem) throw err;
    await uc.store.remove(record.id);
    sendProblem(request, reply, problem.status, problem.code, problem.message);
    return undefined;
  }
}

function renderUpload(uc: UploadContext, reply: FastifyReply, values: { errors?: ErrorItem[]; cancelled?: boolean }, status = 200): FastifyReply {
  const errors = values.errors ?? [];
  return reply.page(
    'upload.njk',
    {
      title: 'Upload a file to trace',
      errors,
      fileError: errors[0]?.html ?? errors[0]?.text,
      cancelled: values.cancelled,
      maxMegabytes: Math.round(uc.web.config.web.uploadMaxBytes / 1024 / 1024),
      fields: FIELD_NAMES.map((field) => ({ field, label: sentenceCase(FIELD_LABELS[field]) })),
    },
    status,
  );
}

function renderPreview(reply: FastifyReply, record: UploadRecord, preview: UploadPreview, errors: ErrorItem[] = [], status = 200): FastifyReply {
  return reply.page(
    'preview.njk',
    {
      title: `Check ${record.fileName} before tracing`,
      errors,
      upload: record,
      preview,
      duration: describeDuration(preview.seconds),
      delimiter: DELIMITER_NAMES[preview.layout.delimiter] ?? preview.layout.delimiter,
      fieldChoices: preview.fields.map((f) => ({
        ...f,
        heading: sentenceCase(f.label),
        items: [
          { value: '', text: 'Not used', selected: f.column === undefined },
          ...preview.layout.headers.map((header, index) => ({ value: String(index), text: `Column ${index + 1}: ${header}`, selected: f.column === index })),
        ],
      })),
      confidential: true,
    },
    status,
  );
}

/** The error summary's item: a duplicate links to the earlier batch when the person may see it. */
async function errorItem(uc: UploadContext, principal: Principal, problem: UploadProblem, href: string): Promise<ErrorItem> {
  if (!problem.earlierBatchId) return { text: problem.message, href };
  const earlier = await loadBatch(uc.web.config.dataDir, problem.earlierBatchId).catch(() => undefined);
  if (!earlier || !mayUse(principal, 'batch.read.own', earlier)) return { text: problem.message, href };
  const escaped = problem.message.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return { html: `${escaped} <a href="/batches/${earlier.id}" data-testid="earlier-batch">See batch ${earlier.id}</a>.`, href };
}

const DELIMITER_NAMES: Readonly<Record<string, string>> = { ',': 'comma', ';': 'semicolon', '\t': 'tab' };

/** "NHS number" stays as it is; "date of birth" becomes "Date of birth". */
function sentenceCase(label: string): string {
  return label.charAt(0).toUpperCase() + label.slice(1);
}

/** "under a minute", "about 12 minutes", "about 3 hours 20 minutes". */
export function describeDuration(seconds: number): string {
  if (seconds < 60) return 'under a minute';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `about ${minutes} minute${minutes === 1 ? '' : 's'}`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return `about ${hours} hour${hours === 1 ? '' : 's'}${rest ? ` ${rest} minute${rest === 1 ? '' : 's'}` : ''}`;
}
