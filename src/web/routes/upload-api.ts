import type { FastifyInstance } from 'fastify';
import type { Principal } from '../../auth/authorise.js';
import { sendProblem } from '../problems.js';
import { isTrue, receiveUpload } from '../upload/receive-upload.js';
import { checkLayout, traceUpload, type UploadContext } from '../upload/upload-flow.js';
import { uploadProblem } from '../upload/upload-problems.js';
import type { UploadRecord } from '../upload/upload-store.js';

/**
 * `POST /api/batches`: a script's upload, multipart with the CSV in field `file` and options
 * `mapping` (a mapping file, as a file or text), `monthFirst`, `minimal`, `format` (`native` or
 * `mesh`) and `again`. The file is checked as the page checks it (text, a layout that can be
 * traced), then submitted through the intake: `202 { id }`. Its rows are read once, by the batch.
 * Every refusal is `{ code, message }` and leaves nothing behind.
 */
export function registerUploadApi(app: FastifyInstance, uc: UploadContext): void {
  app.post('/api/batches', async (request, reply) => {
    if (!request.isMultipart()) return sendProblem(request, reply, 415, 'unsupported_media_type', 'Send multipart/form-data with the CSV in the field "file".');
    const principal = request.principal as Principal;
    let record: UploadRecord | undefined;
    try {
      const received = await receiveUpload(request, uc.store, principal.userId, uc.web.config.web.uploadMaxBytes);
      record = received.record;
      const { fields } = received;
      const format = fields.format ?? 'native';
      if (format !== 'native' && format !== 'mesh') return sendProblem(request, reply, 400, 'bad_request', '"format" is "native" or "mesh".');
      await checkLayout(uc, record);
      const batch = await traceUpload(uc, principal, record, { format, minimal: isTrue(fields.minimal), again: isTrue(fields.again) });
      return reply.code(202).header('Location', `/api/batches/${batch.id}`).send({ id: batch.id });
    } catch (err) {
      if (request.raw.socket.destroyed) return reply;
      const problem = uploadProblem(err);
      if (!problem) throw err;
      return reply.code(problem.status).send({ code: problem.code, message: problem.message, ...(problem.earlierBatchId && { batchId: problem.earlierBatchId }) });
    } finally {
      // Traced or refused, the upload has done its work (a batch keeps its own copy).
      if (record) await uc.store.remove(record.id);
    }
  });
}
