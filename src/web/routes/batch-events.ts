import type { FastifyInstance } from 'fastify';
import { batchFor } from '../batch-access.js';
import { batchJson, batchWatcher, viewBatch } from '../batch-view.js';
import type { WebContext } from '../server.js';

/**
 * `GET /api/batches/:id/events`: a batch's progress as server-sent events, one `progress` event (the
 * JSON of `GET /api/batches/:id`) whenever it changes, until the batch ends. Everything comes from
 * the batch folder (and Redis' live counts), so a restarted server picks up where it was: the
 * browser's EventSource reconnects by itself (`retry:`), and the page's script polls if it cannot.
 *
 * A stream lasts at most STREAM_MS, then the browser reconnects through the access hook: a
 * session that has ended (idle, signed out, user disabled) gets no more updates. The stream does
 * not count as activity (passiveSession), so a page left open still times out.
 */

/** How often the folder is read while a batch runs. */
const LOOK_MS = 1000;
/** A comment line this often keeps proxies from closing a quiet stream. */
const KEEP_ALIVE_MS = 15_000;
const STREAM_MS = 60_000;
/** What the browser waits before reconnecting. */
const RETRY_MS = 2000;

export function registerBatchEvents(app: FastifyInstance, ctx: WebContext): void {
  app.get<{ Params: { id: string } }>('/api/batches/:id/events', { config: { passiveSession: true } }, async (request, reply) => {
    const meta = await batchFor(ctx, request, reply, request.params.id, 'batch.read.own');
    if (!meta) return reply;
    const watcher = batchWatcher(ctx.batches, meta.id);
    const first = await viewBatch(ctx.batches, meta.id, watcher);
    reply.hijack();
    const out = reply.raw;
    // The security headers the hooks set, which a hijacked reply would otherwise not send.
    out.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    let open = true;
    const wake = new AbortController();
    // The connection closing (the browser went away) ends the stream at once.
    const socket = request.raw.socket;
    const gone = () => {
      open = false;
      wake.abort();
    };
    socket.once('close', gone);
    out.write(`retry: ${RETRY_MS}\n\n`);
    const until = Date.now() + STREAM_MS;
    let view = first;
    let sent = '';
    let quietSince = Date.now();
    try {
      for (;;) {
        const data = JSON.stringify(batchJson(view));
        if (data !== sent) {
          out.write(`event: progress\ndata: ${data}\n\n`);
          sent = data;
          quietSince = Date.now();
        } else if (Date.now() - quietSince >= KEEP_ALIVE_MS) {
          out.write(': keep-alive\n\n');
          quietSince = Date.now();
        }
        if (view.ended || !open || Date.now() >= until) break;
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, LOOK_MS);
          wake.signal.addEventListener('abort', () => resolve(clearTimeout(timer)), { once: true });
        });
        if (!open) break;
        view = await viewBatch(ctx.batches, meta.id, watcher);
      }
      if (view.ended && open) out.write('event: end\ndata: {}\n\n');
    } catch (err) {
      // The stream is already under way: end it; the browser reconnects and tries again.
      request.log.error({ err: { name: (err as Error).name, message: (err as Error).message } }, 'progress stream failed');
    } finally {
      socket.off('close', gone);
      out.end();
    }
  });
}
