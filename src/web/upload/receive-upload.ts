import type { Multipart } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { NO_FILE, UploadRefusedError } from './upload-problems.js';
import type { UploadRecord, UploadStore } from './upload-store.js';

/**
 * A multipart upload (the page's form, or `POST /api/batches`): field `file`, the CSV, streamed to
 * disk as it arrives; optionally `mapping`, a mapping file (as a file or as text); and small option
 * fields. Whatever goes wrong on the way (the size limit, the client going away half-way), no
 * upload is left behind.
 */

/** A mapping file names a dozen columns: anything longer is not one. */
const MAPPING_MAX_BYTES = 64 * 1024;

export interface ReceivedUpload {
  record: UploadRecord;
  fields: Record<string, string>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** A page's upload form, its first part (the CSRF token) already read: the rest is the handler's. */
    uploadParts?: AsyncIterableIterator<Multipart>;
  }
}

function openParts(request: FastifyRequest, maxBytes: number): AsyncIterableIterator<Multipart> {
  return request.parts({ limits: { fileSize: maxBytes, files: 2, fields: 20, fieldSize: MAPPING_MAX_BYTES } });
}

/**
 * A form cannot send a header, and the CSRF check reads the body's `_csrf`, which a streamed
 * multipart body does not have until it is read. So the page's form sends its token as the first
 * part (its hidden input comes first), read here before the CSRF check and before any file byte;
 * a form whose first part is anything else fails that check with nothing stored.
 */
export function readCsrfPart(maxBytes: number) {
  return async (request: FastifyRequest): Promise<void> => {
    if (!request.isMultipart()) return;
    const parts = openParts(request, maxBytes);
    const first = await parts.next();
    if (!first.done && first.value.type === 'field' && first.value.fieldname === '_csrf' && typeof first.value.value === 'string') {
      request.body = { _csrf: first.value.value };
      request.uploadParts = parts;
    }
  };
}

export async function receiveUpload(request: FastifyRequest, store: UploadStore, owner: string, maxBytes: number): Promise<ReceivedUpload> {
  let record: UploadRecord | undefined;
  const fields: Record<string, string> = {};
  try {
    const parts = request.uploadParts ?? openParts(request, maxBytes);
    for await (const part of parts) {
      if (part.type === 'field') {
        if (typeof part.value === 'string') fields[part.fieldname] = part.value;
        continue;
      }
      if (part.fieldname === 'mapping') {
        const text = await readSmall(part.file);
        if (text.trim() !== '') fields.mapping = text;
        continue;
      }
      // A form sent with no file chosen still has the part, with no name and no bytes.
      if (part.fieldname !== 'file' || record || part.filename === '') {
        part.file.resume();
        continue;
      }
      const file = part.file;
      record = await store.receive(owner, part.filename, file, { maxBytes, truncated: () => file.truncated, dayFirst: true });
    }
  } catch (err) {
    if (record) await store.remove(record.id);
    throw err;
  }
  if (!record) throw new UploadRefusedError(NO_FILE);
  if (fields.mapping !== undefined || fields.monthFirst !== undefined) {
    record = { ...record, ...(fields.mapping !== undefined && { mappingText: fields.mapping }), dayFirst: !isTrue(fields.monthFirst) };
    await store.save(record);
  }
  return { record, fields };
}

export function isTrue(value: string | undefined): boolean {
  return value !== undefined && ['true', 'yes', 'on', '1'].includes(value.trim().toLowerCase());
}

async function readSmall(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > MAPPING_MAX_BYTES) {
      stream.resume();
      throw new UploadRefusedError({ status: 422, code: 'no_usable_columns', message: 'The mapping file is too long to be one (over 64 KB). Upload the mapping file, a few lines naming a column for each field, not the data.' });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8').replace(/^\uFEFF/, '');
}
