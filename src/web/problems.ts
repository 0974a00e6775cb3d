import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * One way every refusal and failure leaves the web service: the JSON API answers `{ code, message }`
 * with its status (scripts key on `code`); a page sends people to sign in (401) or shows the error
 * page with what happened and what to do.
 */

export type ProblemCode =
  | 'not_signed_in'
  | 'forbidden'
  | 'no_access_rule'
  | 'not_found'
  | 'csrf_invalid'
  | 'too_many_attempts'
  | 'sign_in_refused'
  | 'not_ready'
  | 'not_cancellable'
  // Resume and retry (routes/batch-control.ts), and the research file (routes/research.ts).
  | 'not_resumable'
  | 'not_retryable'
  | 'retry_running'
  | 'research_unavailable'
  | 'bad_request'
  | 'unsupported_media_type'
  | 'server_error'
  // Redis at REDIS_URL not answering: the queues cannot be read (routes/queues.ts).
  | 'redis_unreachable'
  // The upload journey (src/web/upload/upload-problems.ts): what is wrong with a file, each its own code.
  | 'no_file'
  | 'too_large'
  | 'empty_file'
  | 'not_csv'
  | 'unreadable_encoding'
  | 'no_usable_columns'
  | 'duplicate_input'
  | 'tracing_unavailable'
  // Administration of watched folders and schedules (src/web/routes/admin-folders.ts, admin-schedules.ts).
  | 'unknown_folder'
  | 'invalid_settings'
  | 'schedules_not_configured'
  | 'invalid_schedules'
  | 'schedules_not_synced'
  // User administration (src/web/user-admin.ts): the account rules' refusals, each its own code.
  | 'invalid_user'
  | 'user_exists'
  | 'invalid_roles'
  | 'exclusive_role'
  | 'service_role'
  | 'last_admin'
  | 'wrong_kind'
  | 'weak_password'
  | 'current_password_required'
  | 'current_password_wrong'
  | 'store_not_accepted';

export function isApiRequest(request: FastifyRequest): boolean {
  const url = request.routeOptions.url ?? request.url;
  return url === '/api' || url.startsWith('/api/');
}

const PAGE_TITLES: Partial<Record<number, string>> = {
  403: 'You cannot use this page',
  409: 'This cannot be done now',
  404: 'Page not found',
  429: 'Too many attempts',
  500: 'Sorry, there is a problem with the service',
};

export function sendProblem(request: FastifyRequest, reply: FastifyReply, status: number, code: ProblemCode, message: string): FastifyReply {
  if (isApiRequest(request)) return reply.code(status).type('application/json; charset=utf-8').send({ code, message });
  if (status === 401) return reply.redirect(request.sessionExpired ? '/sign-in?timeout=1' : '/sign-in', 303);
  return reply.page('error.njk', { title: PAGE_TITLES[status] ?? 'There is a problem', message }, status);
}
