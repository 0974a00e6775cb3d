import type { FastifyInstance } from 'fastify';
import type { Principal } from '../../auth/authorise.js';
import { InputChangedError } from '../../pipeline/input-changed-error.js';
import { formatRemoval } from '../../pipeline/retention.js';
import { researchCsv, researchFileName } from '../../pipeline/research-file.js';
import { auditAs } from '../access-hook.js';
import { batchFor } from '../batch-access.js';
import { attachment } from '../batch-files.js';
import { sendProblem } from '../problems.js';
import type { WebContext } from '../server.js';

/**
 * `GET /api/batches/:id/research`: a finished batch's research file (src/pipeline/research-file.ts:
 * row, local id, status, trusted NHS number; no demographics), to a holder of research.download
 * for a batch they submitted (anyone else: 404), streamed as it is made, never stored or cached,
 * and recorded as `research_downloaded`.
 */
export function registerResearchRoutes(app: FastifyInstance, ctx: WebContext): void {
  app.get<{ Params: { id: string } }>('/api/batches/:id/research', async (request, reply) => {
    const meta = await batchFor(ctx, request, reply, request.params.id, 'research.download');
    if (!meta) return reply;
    if (meta.state !== 'assembled') return sendProblem(request, reply, 409, 'not_ready', `Batch ${meta.id} is ${meta.state}: its research file can be downloaded when it is done.`);
    if (meta.workFilesRemoved) {
      return sendProblem(request, reply, 409, 'research_unavailable', `Batch ${meta.id}'s work files, which the research file is made from, were removed on ${formatRemoval(meta.workFilesRemoved)}: submit the file again to have one.`);
    }
    let csv: Awaited<ReturnType<typeof researchCsv>>;
    try {
      csv = await researchCsv(ctx.config.dataDir, meta);
    } catch (err) {
      if (err instanceof InputChangedError) return sendProblem(request, reply, 409, 'research_unavailable', err.message);
      throw err;
    }
    await ctx.audit.append(auditAs(ctx, request.principal as Principal, [{ kind: 'research_downloaded', batchId: meta.id, outcome: 'sent', detail: 'surface=web file=research' }]));
    return reply.header('Cache-Control', 'no-store').header('Content-Disposition', attachment(researchFileName(meta))).type('text/csv; charset=utf-8').send(csv);
  });
}
