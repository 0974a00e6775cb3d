import { roleField } from '../audit/event.js';
import type { UserRecord } from './users.js';

/**
 * What differs between two versions of the accounts, one line per account, for the admin deciding
 * whether to accept a users.json changed outside pds-trace. Hashes are never shown, only that they
 * changed.
 */

type Field = keyof UserRecord;

const SHOWN: readonly Field[] = ['displayName', 'kind', 'disabled', 'failedAttempts', 'lockoutUntil'];
const SECRET: readonly Field[] = ['passwordHash', 'tokenHash'];

function shown(value: unknown): string {
  return value === undefined ? '(none)' : String(value);
}

function accountChanges(before: UserRecord, after: UserRecord): string[] {
  const changes: string[] = [];
  if (roleField(before.roles) !== roleField(after.roles)) changes.push(`roles ${roleField(before.roles) || '(none)'} -> ${roleField(after.roles) || '(none)'}`);
  for (const field of SHOWN) if (before[field] !== after[field]) changes.push(`${field} ${shown(before[field])} -> ${shown(after[field])}`);
  for (const field of SECRET) if (before[field] !== after[field]) changes.push(`${field} changed`);
  return changes;
}

export function describeStoreDifferences(before: readonly UserRecord[], after: readonly UserRecord[]): string[] {
  const lines: string[] = [];
  for (const old of before) {
    const now = after.find((u) => u.id === old.id);
    if (!now) lines.push(`${old.id}: removed`);
    else {
      const changes = accountChanges(old, now);
      if (changes.length > 0) lines.push(`${old.id}: ${changes.join('; ')}`);
    }
  }
  for (const now of after) {
    if (!before.some((u) => u.id === now.id)) lines.push(`${now.id}: added (${now.kind}, ${roleField(now.roles)}${now.disabled ? ', disabled' : ''})`);
  }
  return lines;
}
