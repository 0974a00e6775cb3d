import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedDir } from './support/shared-dir.js';

/**
 * CONFORMANCE.md is the evidence pack an Information Governance lead reads: one row per NHS SMSP
 * client requirement with its status and the code and tests that prove it. This test keeps it
 * honest: every requirement in NHS England's lists has a row, every status is one of the agreed
 * words, every file named exists and every test named as evidence is in the file named.
 */

const REPO = path.resolve(import.meta.dirname, '..');
const STATUSES = ['met', 'met by the deploying organisation', 'not applicable'];

function normaliseId(id: string): string {
  // The lists write MSCA_IG_005 and MSCA_ORG_01; people write MSCA-IG-05.
  const [, area, n] = /^MSCA[_-]([A-Z]+)[_-]0*(\d+)$/.exec(id.trim()) ?? [];
  return area ? `MSCA-${area}-${n!.padStart(2, '0')}` : id.trim();
}

function requirementIds(): string[] {
  const nhs = path.join(sharedDir(), 'smsp/nhs');
  const common = readFileSync(path.join(nhs, 'client-requirements-common.tsv'), 'utf8').split('\n').slice(1).map((l) => l.split('\t')[1] ?? '');
  const pds = readFileSync(path.join(nhs, 'client-requirements-pds.csv'), 'utf8').split('\n').slice(1).map((l) => l.split(',')[1] ?? '');
  return [...common, ...pds].filter((id) => id.startsWith('MSCA')).map(normaliseId);
}

interface Row {
  id: string;
  status: string;
  evidence: string;
}

function conformanceRows(): Row[] {
  const text = readFileSync(path.join(REPO, 'CONFORMANCE.md'), 'utf8');
  return text
    .split('\n')
    .filter((line) => /^\|\s*MSCA[-_]/.test(line))
    .map((line) => {
      const cells = line.split('|').slice(1, -1).map((c) => c.trim());
      return { id: normaliseId(cells[0]!), status: (cells[2] ?? '').replace(/\*/g, '').trim().toLowerCase(), evidence: cells.at(-1) ?? '' };
    });
}

describe('CONFORMANCE.md', () => {
  const rows = conformanceRows();

  it('has exactly one row for every requirement in the NHS client requirement lists', () => {
    const ids = requirementIds();
    expect(ids.length).toBeGreaterThanOrEqual(29);
    for (const id of ids) expect(rows.filter((r) => r.id === id).map((r) => r.id), id).toEqual([id]);
    expect(rows.map((r) => r.id).filter((id) => !ids.includes(id))).toEqual([]);
  });

  it('gives every requirement one of the agreed statuses', () => {
    for (const row of rows) expect(STATUSES.some((s) => row.status.startsWith(s)), `${row.id}: "${row.status}"`).toBe(true);
  });

  it('names evidence for every requirement pds-trace meets, and every file and test named exists', () => {
    for (const row of rows) {
      const paths = [...row.evidence.matchAll(/`([^`]+\.(?:ts|md|json|yml|csv))`/g)].map((m) => m[1]!);
      if (row.status.startsWith('met') && !row.status.startsWith('met by the deploying')) expect(paths.length, `${row.id} has no evidence`).toBeGreaterThan(0);
      for (const p of paths) expect(existsSync(path.join(REPO, p)), `${row.id}: ${p}`).toBe(true);
      // A test is named as `file` › *test name*: the name must appear in that file.
      for (const m of row.evidence.matchAll(/`(test\/[^`]+\.test\.ts)`\s*›\s*\*([^*]+)\*/g)) {
        const source = readFileSync(path.join(REPO, m[1]!), 'utf8');
        expect(source.includes(m[2]!.trim()), `${row.id}: no test "${m[2]}" in ${m[1]}`).toBe(true);
      }
    }
  });
});
