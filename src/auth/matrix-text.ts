import { ACCESS_RULES, PERMISSION_NAMES, PERMISSIONS, ROLE_NAMES, ROLES, rolesAllow } from './roles.js';

/** The permission matrix as `pds-trace users roles` prints it: read from the tables, never restated. */
export function formatPermissionMatrix(): string {
  const lines: string[] = [];
  const permWidth = Math.max(...PERMISSION_NAMES.map((p) => p.length));
  const roleWidths = ROLE_NAMES.map((r) => Math.max(r.length, 3));

  lines.push('Roles');
  for (const role of ROLE_NAMES) lines.push(`  ${role.padEnd(9)} ${ROLES[role].description}`);
  lines.push('', 'Permissions by role (x = held)');
  lines.push(`  ${''.padEnd(permWidth)}  ${ROLE_NAMES.map((r, i) => r.padEnd(roleWidths[i]!)).join('  ')}`);
  for (const permission of PERMISSION_NAMES) {
    const marks = ROLE_NAMES.map((r, i) => ((ROLES[r].permissions as readonly string[]).includes(permission) ? 'x' : '.').padEnd(roleWidths[i]!));
    lines.push(`  ${permission.padEnd(permWidth)}  ${marks.join('  ')}  ${PERMISSIONS[permission]}`);
  }

  lines.push('', 'Commands, API routes and pages');
  const nameWidth = Math.max(...ACCESS_RULES.map((r) => r.name.length));
  for (const rule of ACCESS_RULES) {
    const needs = rule.anyOf.length === 0 ? 'signed in' : rule.anyOf.join(' | ');
    const roles = ROLE_NAMES.filter((r) => rolesAllow([r], rule)).join(', ');
    lines.push(`  ${rule.surface.padEnd(4)} ${rule.name.padEnd(nameWidth)}  ${needs}  [${roles}]${rule.note ? `  (${rule.note})` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}
