/**
 * The permission matrix of pds-trace, as ONE table: what each permission allows, which roles hold
 * it, and which permission every CLI command, API route and page requires. Commands, routes, pages,
 * `pds-trace users roles` and the permission-matrix test all read these tables, so a rule changes
 * in one place.
 *
 * The separation that shapes it (IF Common Client Requirements Appendix A; peers-and-governance.md
 * §4.6): viewing the audit trail is separate from every other function. Only `auditor` holds the
 * audit permissions, `auditor` holds nothing else, and a user who is an auditor can hold no other
 * role — so nobody who runs traces or administers the system can read (or quietly check) the trail
 * of their own actions.
 */

export const PERMISSIONS = {
  'batch.submit': 'submit a file for tracing (CLI, watched folder, upload)',
  'batch.read.own': 'see the status and counts of batches one submitted',
  'batch.read.any': 'see the status and counts of every batch and the queues (no patient data)',
  'batch.manage.own': 'resume, retry and cancel batches one submitted',
  'results.download': 'download the results of batches one submitted (patient data)',
  'research.download': 'download the research outputs of batches one submitted',
  'audit.read': 'search and export the audit trail',
  'audit.verify': 'check the audit trail for tampering',
  'users.manage': 'add, disable and enable users, set passwords and roles',
  'queue.operate': 'run workers; resume, retry and cancel any batch',
  'batch.purge.any': "remove any finished batch's work files at once (destroys patient data, reads none)",
  'simulator.run': 'run the SMSP simulator and generate synthetic cohorts and populations',
  'config.change': 'change watched folders, schedules and the audit database schema',
  'dashboard.view': 'view the queue dashboard',
} as const;

export type Permission = keyof typeof PERMISSIONS;

export const PERMISSION_NAMES = Object.keys(PERMISSIONS) as Permission[];

interface RoleDefinition {
  description: string;
  permissions: readonly Permission[];
}

export const ROLES = {
  admin: {
    description: 'users, folders, schedules, dashboard; no patient results, no audit trail',
    permissions: ['users.manage', 'config.change', 'dashboard.view', 'batch.read.any', 'batch.purge.any', 'simulator.run'],
  },
  tracer: {
    description: 'submit files; follow, resume, retry and cancel own batches; read their results',
    permissions: ['batch.submit', 'batch.read.own', 'batch.manage.own', 'results.download'],
  },
  analyst: {
    description: 'as tracer, plus research outputs',
    permissions: ['batch.submit', 'batch.read.own', 'batch.manage.own', 'results.download', 'research.download'],
  },
  auditor: {
    description: 'the audit trail only; no patient results, no other function',
    permissions: ['audit.read', 'audit.verify'],
  },
  operator: {
    description: 'queue health, workers, the queue dashboard; resume, retry, cancel and purge any batch; no patient data',
    permissions: ['batch.read.any', 'queue.operate', 'batch.purge.any', 'simulator.run', 'dashboard.view'],
  },
} as const satisfies Record<string, RoleDefinition>;

export type Role = keyof typeof ROLES;

export const ROLE_NAMES = Object.keys(ROLES) as Role[];

/** Roles a user may not combine with any other (the audit separation above). */
export const EXCLUSIVE_ROLES: ReadonlySet<Role> = new Set(['auditor']);

export function isRole(value: string): value is Role {
  return Object.hasOwn(ROLES, value);
}

export function permissionsOf(roles: readonly Role[]): ReadonlySet<Permission> {
  return new Set(roles.flatMap((role) => ROLES[role].permissions));
}

/** Where a rule applies: a `pds-trace` command, an HTTP API route, or a web page. */
export type Surface = 'cli' | 'api' | 'page';

export interface AccessRule {
  surface: Surface;
  /** `users add`; `GET /api/batches/:id`; `/audit`. */
  name: string;
  /**
   * Any one of these permissions suffices. Empty: any signed-in user or service account.
   * Scoping to one's own batches is the handler's job (authorise.ts `requireOwnBatch`).
   */
  anyOf: readonly Permission[];
  /** An exception the handler applies on top of the rule. */
  note?: string;
}

const cli = (name: string, anyOf: readonly Permission[], note?: string): AccessRule => ({ surface: 'cli', name, anyOf, note });
const api = (name: string, anyOf: readonly Permission[], note?: string): AccessRule => ({ surface: 'api', name, anyOf, note });
const page = (name: string, anyOf: readonly Permission[], note?: string): AccessRule => ({ surface: 'page', name, anyOf, note });

const READ_BATCHES: readonly Permission[] = ['batch.read.own', 'batch.read.any'];
/** Resume, retry, cancel: the submitter their own batch (`requireBatchControl`), operators any. */
const MANAGE_BATCHES: readonly Permission[] = ['batch.manage.own', 'queue.operate'];
const OWN_BATCH_ONLY = 'batch.manage.own: only a batch the user submitted';

/**
 * Every command, route and page. API routes and pages are listed ahead of the web server so that
 * each is checked (and tested) from the day it exists. Open to anyone, so without a rule: signing in
 * itself (`POST /api/session`, `/sign-in`), and `pds-trace doctor`, which reads health only (no
 * patient data, no secret) and must work when sign-in itself is what is broken.
 */
export const ACCESS_RULES: readonly AccessRule[] = [
  cli('trace', ['batch.submit']),
  cli('worker', ['queue.operate']),
  cli('watch', ['batch.submit'], 'unattended: only a service account, the one accountable for every batch it submits'),
  cli('schedule list', ['queue.operate', 'config.change']),
  cli('schedule sync', ['queue.operate', 'config.change'], 'applies the schedules file PDS_TRACE_SCHEDULES names; the file is the configuration'),
  cli('schedule run', ['queue.operate']),
  cli('status', READ_BATCHES, 'batch.read.own lists only batches the user submitted'),
  cli('resume', MANAGE_BATCHES, OWN_BATCH_ONLY),
  cli('retry', MANAGE_BATCHES, OWN_BATCH_ONLY),
  cli('cancel', MANAGE_BATCHES, OWN_BATCH_ONLY),
  cli('purge', ['batch.submit', 'batch.purge.any'], 'batch.submit: only a batch the user submitted'),
  cli('simulator', ['simulator.run']),
  cli('cohort', ['simulator.run']),
  cli('population', ['simulator.run']),
  cli('users add', ['users.manage'], 'on an empty user store, no sign-in: the first user must be an admin'),
  cli('users passwd', ['users.manage'], 'anyone signed in with a password may change their own'),
  cli('users disable', ['users.manage']),
  cli('users enable', ['users.manage']),
  cli('users set-roles', ['users.manage']),
  cli('users list', ['users.manage']),
  cli('users accept-store', ['users.manage'], 'signs in against the accounts last recorded in the audit trail, not users.json as found'),
  cli('users roles', []),
  cli('audit verify', ['audit.verify']),
  cli('audit search', ['audit.read']),
  cli('audit migrate', ['config.change']),
  cli('audit pin', ['config.change']),

  api('GET /api/me', []),
  api('POST /api/batches', ['batch.submit']),
  api('GET /api/batches', READ_BATCHES, 'batch.read.own lists only batches the user submitted'),
  api('GET /api/batches/:id', READ_BATCHES, 'batch.read.own: only a batch the user submitted'),
  api('GET /api/batches/:id/events', READ_BATCHES, 'batch.read.own: only a batch the user submitted; server-sent events of its progress'),
  api('GET /api/batches/:id/results', ['results.download'], 'only a batch the user submitted'),
  api('GET /api/batches/:id/files/:kind', ['results.download'], 'only a batch the user submitted: results, audit, summary, back-office and discrepancy files'),
  api('GET /api/batches/:id/research', ['research.download'], 'only a batch the user submitted'),
  api('POST /api/batches/:id/retry', MANAGE_BATCHES, OWN_BATCH_ONLY),
  api('POST /api/batches/:id/resume', MANAGE_BATCHES, OWN_BATCH_ONLY),
  api('POST /api/batches/:id/cancel', MANAGE_BATCHES, OWN_BATCH_ONLY),
  api('GET /api/queues', ['batch.read.any']),
  api('GET /api/audit/events', ['audit.read'], 'no NHS number in a URL: search by one with POST /api/audit/search'),
  api('POST /api/audit/search', ['audit.read'], 'the search of GET /api/audit/events with the filters (an NHS number too) in the body; JSON or CSV'),
  api('GET /api/audit/events.csv', ['audit.read']),
  api('POST /api/audit/verify', ['audit.verify']),
  api('GET /api/users', ['users.manage']),
  api('POST /api/users', ['users.manage']),
  // Open to every signed-in caller so that a person can change their own password (the access hook
  // knows no exceptions); the handler requires users.manage for anything else, and answers 404 for
  // any other account, as for a batch one may not see.
  api('PATCH /api/users/:id', [], 'users.manage, except a person changing their own password, giving the current one'),
  api('PUT /api/folders', ['config.change']),
  api('PUT /api/schedules', ['config.change']),

  page('/batches', READ_BATCHES, 'batch.read.own lists only batches the user submitted'),
  page('/batches/:id', READ_BATCHES, 'batch.read.own: only a batch the user submitted'),
  page('/upload', ['batch.submit']),
  page('/upload/:uploadId', ['batch.submit'], 'only the user who uploaded it'),
  page('/upload/:uploadId/problems.csv', ['batch.submit'], 'only the user who uploaded it'),
  page('/queues', ['batch.read.any']),
  page('/audit', ['audit.read', 'audit.verify']),
  page('/admin/users', ['users.manage']),
  page('/account', [], "one's own account: a person changes their own password there, giving the current one"),
  page('/admin/folders', ['config.change']),
  page('/admin/schedules', ['config.change']),
  page('/admin/dashboard', ['dashboard.view']),
];

/** A command, route or page missing from the table: refused, never allowed by default. */
export class UnknownAccessRuleError extends Error {
  override readonly name = 'UnknownAccessRuleError';
  constructor(
    readonly surface: Surface,
    readonly ruleName: string,
  ) {
    super(`no access rule for ${surface} "${ruleName}": add it to ACCESS_RULES in src/auth/roles.ts`);
  }
}

export function accessRule(surface: Surface, name: string): AccessRule {
  const rule = ACCESS_RULES.find((r) => r.surface === surface && r.name === name);
  if (!rule) throw new UnknownAccessRuleError(surface, name);
  return rule;
}

export function rolesAllow(roles: readonly Role[], rule: AccessRule): boolean {
  const held = permissionsOf(roles);
  return rule.anyOf.length === 0 || rule.anyOf.some((p) => held.has(p));
}
