import fastifyMultipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import { UploadStore } from '../upload/upload-store.js';
import { resumeWebBatches } from '../upload/resume-web-batches.js';
import { HandedOver, isAvailable, type TracingChoice } from '../upload/tracing.js';
import type { UploadContext } from '../upload/upload-flow.js';
import type { WebContext } from '../server.js';
import { registerUploadApi } from './upload-api.js';
import { registerUploadPages } from './upload-pages.js';

/**
 * The upload journey (issue 17): `/upload`, the check at `/upload/:uploadId`, and
 * `POST /api/batches`, all submitting through the intake. Multipart bodies are parsed only here,
 * and only by the handlers that stream them to disk; the access hook has checked the route and
 * the session before a byte of the body is read, and the CSRF check before the handler runs.
 */

/** Uploads nobody came back to within a day are removed (they hold patient data). */
export const UPLOAD_MAX_AGE_MS = 24 * 3_600_000;

export const NO_TRACING = 'This server was started without a way to trace batches. Start it with `pds-trace serve`.';

export async function registerUploadRoutes(app: FastifyInstance, ctx: WebContext, tracing: TracingChoice = { unavailable: NO_TRACING }): Promise<void> {
  const uc: UploadContext = { web: ctx, store: new UploadStore(ctx.config.dataDir), tracing, handedOver: new HandedOver() };
  const sweep = () => uc.store.sweep(UPLOAD_MAX_AGE_MS).catch(() => 0);
  await sweep();
  // Unref'd: the timer never keeps the process up.
  const sweeper = setInterval(sweep, 3_600_000).unref();
  app.addHook('onClose', async () => {
    clearInterval(sweeper);
    await uc.handedOver.stop();
  });
  if (isAvailable(tracing)) {
    const resumed = await resumeWebBatches(ctx.config.dataDir, tracing, uc.handedOver);
    if (resumed.length > 0) process.stderr.write(`Taking up ${resumed.length} unfinished uploaded batch${resumed.length === 1 ? '' : 'es'}: ${resumed.join(', ')}\n`);
  }
  await app.register(async (scope) => {
    await scope.register(fastifyMultipart);
    registerUploadPages(scope, uc);
    registerUploadApi(scope, uc);
  });
}
