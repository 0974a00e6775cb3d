import { accessRule, permissionsOf, rolesAllow, type AccessRule, type Permission, type Role, type Surface } from './roles.js';

/**
 * Who is acting, once signed in: what every permission check and audit event is made from. A
 * service account is a principal too (watched folders, schedules), with the roles it was given.
 */
export interface Principal {
  userId: string;
  roles: readonly Role[];
  kind: 'person' | 'service';
}

/**
 * Refused: carries the user id and what was needed, never data the action concerned. `permission`
 * lists the permissions any one of which would have sufficed.
 */
export class AccessDeniedError extends Error {
  override readonly name = 'AccessDeniedError';
  constructor(
    readonly userId: string,
    readonly permission: readonly Permission[],
    /** The command, route or page, or `batch <id>` for an ownership refusal. */
    readonly target?: string,
  ) {
    const needs = permission.length === 1 ? permission[0] : `one of ${permission.join(', ')}`;
    super(`${userId} may not ${target ? `use ${target}` : 'do this'}: needs ${needs ?? 'to be signed in'}`);
  }
}

export function hasPermission(principal: Principal, permission: Permission): boolean {
  return permissionsOf(principal.roles).has(permission);
}

export function requirePermission(principal: Principal, permission: Permission): void {
  if (!hasPermission(principal, permission)) throw new AccessDeniedError(principal.userId, [permission]);
}

/** Checks the table's rule for a command, route or page; returns the rule for its notes. */
export function requireAccess(principal: Principal, surface: Surface, name: string): AccessRule {
  const rule = accessRule(surface, name);
  if (!rolesAllow(principal.roles, rule)) throw new AccessDeniedError(principal.userId, rule.anyOf, name);
  return rule;
}

/**
 * For a batch-scoped permission: the principal needs it, and the batch must be theirs — unless they
 * hold `batch.read.any` and only want to read its status. Results and research outputs are only
 * ever the submitter's: `batch.read.any` shows counts, never patient data.
 */
export function requireOwnBatch(principal: Principal, permission: Permission, batch: { id: string; user: string }): void {
  const target = `batch ${batch.id}`;
  if (permission === 'batch.read.own' && hasPermission(principal, 'batch.read.any')) return;
  if (!hasPermission(principal, permission)) throw new AccessDeniedError(principal.userId, [permission], target);
  if (batch.user !== principal.userId) throw new AccessDeniedError(principal.userId, [permission], target);
}

/**
 * For resuming, retrying or cancelling a batch: an operator (`queue.operate`) may act on any batch;
 * anyone else needs `batch.manage.own` and to be the batch's submitter.
 */
export function requireBatchControl(principal: Principal, batch: { id: string; user: string }): void {
  if (hasPermission(principal, 'queue.operate')) return;
  if (hasPermission(principal, 'batch.manage.own') && batch.user === principal.userId) return;
  throw new AccessDeniedError(principal.userId, ['batch.manage.own', 'queue.operate'], `batch ${batch.id}`);
}
