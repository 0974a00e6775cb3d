import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../log.js';
import { BATCH_ID_PATTERN } from '../pipeline/batch-id.js';
import { STATIC_PREFIXES } from './route-rules.js';

/**
 * One log line per answered request, for the operator at a terminal or a log collector: method,
 * the route's PATTERN (`/batches/:id`), never the address as sent, whose path or query may carry
 * whatever a person typed (an NHS number pasted into the address bar); the status, the time taken,
 * who asked, and the batch when the route names one. The service's own files (CSS, images, script)
 * are logged at debug only: they say nothing an operator acts on.
 */

export interface RequestLogLine {
  method: string;
  route: string;
  status: number;
  ms: number;
  user?: string;
  batchId?: string;
}

export function requestLogLine(request: FastifyRequest, reply: FastifyReply): RequestLogLine {
  const route = request.routeOptions.url ?? '(no route)';
  const id = (request.params as Record<string, unknown> | undefined)?.id;
  return {
    method: request.method,
    route,
    status: reply.statusCode,
    ms: Math.round(reply.elapsedTime),
    user: request.principal?.userId,
    batchId: typeof id === 'string' && BATCH_ID_PATTERN.test(id) ? id : undefined,
  };
}

export function logRequest(logger: Logger): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (request, reply) => {
    const line = requestLogLine(request, reply);
    const level = line.status >= 500 ? 'warn' : STATIC_PREFIXES.some((prefix) => line.route.startsWith(prefix)) ? 'debug' : 'info';
    logger.log(level, 'request', line);
  };
}
