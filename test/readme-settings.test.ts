import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

/**
 * Every environment variable pds-trace reads is a setting someone may need to put in a script,
 * so each has a row in the README's settings table. Found two ways, so neither a new setting in
 * the configuration schema nor a variable read elsewhere (credentials) can slip past.
 */

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The names in the first cell of each row of the README's "Settings" table. */
function documentedSettings(): Set<string> {
  const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const section = readme.split(/^## Settings$/m)[1]!.split(/^## /m)[0]!;
  const names = section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .flatMap((line) => [...line.split('|')[1]!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!));
  return new Set(names);
}

/** Every name the configuration reads from the environment, observed by handing it a recording one. */
function readByConfiguration(): Set<string> {
  const read = new Set<string>();
  const env = new Proxy({} as Record<string, string | undefined>, {
    get: (_target, key) => {
      if (typeof key === 'string') read.add(key);
      return undefined;
    },
  });
  loadConfig(env);
  return read;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(path.join(dir, entry.name)) : entry.name.endsWith('.ts') ? [path.join(dir, entry.name)] : [],
  );
}

/**
 * Names read outside the configuration, found in the sources: `env.NAME`, `env['NAME']`, and the
 * names held in `…_ENV` constants (`CREDENTIAL_ENV`, `NEW_PASSWORD_ENV`), through which the
 * sign-in code reads its variables.
 */
function readInSources(): Set<string> {
  const names = new Set<string>();
  for (const file of sourceFiles(path.join(REPO, 'src'))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\benv(?:\.|\[\s*['"`])([A-Z][A-Z0-9_]+)/g)) names.add(m[1]!);
    for (const m of text.matchAll(/\b[A-Z][A-Z0-9_]*_ENV\b\s*=\s*(\{[^}]*\}|'[^']*'|"[^"]*")/g)) {
      for (const quoted of m[1]!.matchAll(/['"]([A-Z][A-Z0-9_]+)['"]/g)) names.add(quoted[1]!);
    }
  }
  return names;
}

describe("the README's settings table", () => {
  it('documents every setting the configuration reads', () => {
    const read = readByConfiguration();
    expect([...read]).toEqual(expect.arrayContaining(['SMSP_URL', 'AUDIT_DATABASE_URL', 'PDS_TRACE_CONFIG', 'LOG_LEVEL']));
    const documented = documentedSettings();
    expect([...read].filter((name) => !documented.has(name))).toEqual([]);
  });

  it('documents every variable read anywhere else in src/, credentials included', () => {
    const read = readInSources();
    expect([...read]).toEqual(
      expect.arrayContaining(['PDS_TRACE_USER', 'PDS_TRACE_PASSWORD', 'PDS_TRACE_SERVICE_ACCOUNT', 'PDS_TRACE_SERVICE_TOKEN', 'PDS_TRACE_NEW_PASSWORD', 'PDS_TRACE_CONFIG']),
    );
    const documented = documentedSettings();
    expect([...read].filter((name) => !documented.has(name))).toEqual([]);
  });
});
