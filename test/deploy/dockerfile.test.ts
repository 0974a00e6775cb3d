import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The image: built in two stages, the last holding runtime dependencies and the built code only,
 * running as an account that is not root, carrying no secret; and a build context from which
 * .dockerignore keeps data folders, outputs (patient data) and secrets out.
 */

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Instruction {
  keyword: string;
  args: string;
}

/** Dockerfile instructions by stage, continuation lines joined and comments dropped. */
function stages(text: string): Instruction[][] {
  const joined = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ');
  const result: Instruction[][] = [];
  for (const line of joined.split('\n')) {
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const instruction = { keyword: m[1]!.toUpperCase(), args: m[2]!.trim() };
    if (instruction.keyword === 'FROM' || result.length === 0) result.push([]);
    result.at(-1)!.push(instruction);
  }
  return result;
}

/** Sources a COPY or ADD takes from the build context (not `--from` another stage). */
function contextSources(stage: Instruction[]): string[] {
  return stage
    .filter((i) => (i.keyword === 'COPY' || i.keyword === 'ADD') && !/--from=/.test(i.args))
    .flatMap((i) => i.args.split(/\s+/).filter((a) => !a.startsWith('--')).slice(0, -1));
}

/**
 * Whether `.dockerignore` keeps `file` out of the build context, as Docker decides it
 * (moby/patternmatcher): patterns are matched against the path and each folder above it, `*`
 * within one folder, `**` across folders, and the last pattern that matches wins (`!` keeps).
 */
export function ignoredByDockerignore(patterns: string, file: string): boolean {
  const rules = patterns
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const keep = l.startsWith('!');
      const pattern = (keep ? l.slice(1) : l).replace(/^\/+|\/+$/g, '');
      const source = pattern
        .split(/(\*\*\/|\*\*|\*|\?)/)
        .map((part) => ({ '**/': '(?:.*/)?', '**': '.*', '*': '[^/]*', '?': '[^/]' })[part] ?? part.replace(/[.+^${}()|[\]\\]/g, '\\$&'))
        .join('');
      return { keep, regex: new RegExp(`^${source}$`) };
    });
  const parts = file.split('/');
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const rule of rules) if (candidates.some((c) => rule.regex.test(c))) ignored = !rule.keep;
  return ignored;
}

const dockerfile = () => readFileSync(path.join(REPO, 'Dockerfile'), 'utf8');
const dockerignore = () => readFileSync(path.join(REPO, '.dockerignore'), 'utf8');

/** What the image must be, as problems found in a Dockerfile's text. */
function imageProblems(text: string): string[] {
  const all = stages(text);
  const final = all.at(-1) ?? [];
  const problems: string[] = [];
  if (all.length < 2) problems.push('one stage: the build tools would ship in the image');
  if (!final.some((i) => i.keyword === 'RUN' && /npm ci [^\n]*--omit=dev/.test(i.args))) problems.push('the final stage does not install with npm ci --omit=dev');
  if (!final.some((i) => i.keyword === 'COPY' && /--from=\w+ \/app\/dist/.test(i.args))) problems.push('the final stage does not copy the built dist/');
  if (contextSources(final).includes('src')) problems.push('the final stage copies the sources');
  const user = final.findLast((i) => i.keyword === 'USER');
  if (!user || /^(root|0)(:|$)/.test(user.args)) problems.push('runs as root');
  else if (final.indexOf(user) > final.findIndex((i) => i.keyword === 'ENTRYPOINT')) problems.push('USER comes after ENTRYPOINT');
  const env = final.filter((i) => i.keyword === 'ENV').map((i) => i.args).join('\n');
  for (const option of ['--v8-pool-size=1', '--max-old-space-size=192']) if (!env.includes(option)) problems.push(`NODE_OPTIONS without ${option}`);
  const healthcheck = final.find((i) => i.keyword === 'HEALTHCHECK');
  if (!healthcheck?.args.includes('/app/deploy/healthcheck.mjs') || !contextSources(final).includes('deploy/healthcheck.mjs')) problems.push('no healthcheck probing readiness with deploy/healthcheck.mjs');
  for (const stage of all) {
    for (const source of contextSources(stage)) if (/secret|\.pem$|\.key$|\.p12$|\.pfx$|\.env$|token|exchange|\.pds-trace|^out\b/i.test(source)) problems.push(`copies ${source}`);
    for (const i of stage.filter((x) => x.keyword === 'ENV' || x.keyword === 'ARG')) if (/PASSWORD|TOKEN|PASSPHRASE|SECRET|_KEY=|DATABASE_URL/.test(i.args)) problems.push(`sets a secret: ${i.keyword} ${i.args}`);
  }
  return problems;
}

describe('Dockerfile', () => {
  it('builds in one stage and ships another with runtime dependencies and the built code only, as a user that is not root, with the V8 settings and a readiness healthcheck', () => {
    expect(imageProblems(dockerfile())).toEqual([]);
  });

  const mutations: Array<[string, (text: string) => string, string]> = [
    ['runs as root', (t) => t.replace(/^USER .*$/m, 'USER root'), 'runs as root'],
    ['has no USER', (t) => t.replace(/^USER .*$/m, ''), 'runs as root'],
    ['installs the dev dependencies', (t) => t.replace('npm ci --omit=dev', 'npm ci'), 'npm ci --omit=dev'],
    ['copies the secrets folder', (t) => t.replace('COPY config ./config', 'COPY secrets ./secrets'), 'copies secrets'],
    ['bakes a token in', (t) => t.replace('ENV PDS_TRACE_DATA_DIR=/data', 'ENV PDS_TRACE_SERVICE_TOKEN=pdst_x'), 'sets a secret'],
    ['drops the V8 thread setting', (t) => t.replace(' --v8-pool-size=1', ''), 'NODE_OPTIONS without --v8-pool-size=1'],
    ['is one stage', (t) => t.replace(/^FROM [^\n]* AS build\n[\s\S]*?(?=^FROM )/m, '').replace(/^COPY --from=build .*$/m, ''), 'one stage'],
  ];

  it.each(mutations)('catches an image that %s', (_label, mutate, expected) => {
    const mutated = mutate(dockerfile());
    expect(mutated).not.toBe(dockerfile());
    expect(imageProblems(mutated)).toEqual(expect.arrayContaining([expect.stringContaining(expected)]));
  });
});

describe('.dockerignore', () => {
  it('keeps data folders, outputs, exchanged files and secrets out of the build context', () => {
    const patterns = dockerignore();
    const patientDataOrSecrets = [
      '.pds-trace/batches/b1/input.csv',
      '.pds-trace/users.json',
      'out/quickstart/cohort-small.SIMULATED.results.csv',
      'exchange/watch/inbox/pas.csv',
      'exchange/watch/outbox/pas.results.csv',
      'secrets/service-token',
      'secrets/smsp-client-key.pem',
      '.env',
      'test/.tmp/pds-trace-watch-1/inbox/a.csv',
      'bench/.tmp/cohort-1000000.csv',
      'samples/cohort-small.SIMULATED.results.csv',
      'src/out/results.csv',
      'config/client.pem',
      'someone-else',
    ];
    expect(patientDataOrSecrets.filter((file) => !ignoredByDockerignore(patterns, file))).toEqual([]);
  });

  it('lets in every file the Dockerfile copies from the build context', () => {
    const patterns = dockerignore();
    const copied = stages(dockerfile()).flatMap(contextSources);
    expect(copied).toEqual(expect.arrayContaining(['package.json', 'src', 'deploy/healthcheck.mjs']));
    const wanted = copied.flatMap((source) => (source === 'src' || source === 'jobs' ? [`${source}/cli.ts`] : source === 'samples' ? ['samples/cohort-small.csv'] : source === 'config' ? ['config/schedules.example.json'] : [source]));
    expect(wanted.filter((file) => ignoredByDockerignore(patterns, file))).toEqual([]);
  });

  it('is read as Docker reads it: the last pattern that matches decides', () => {
    expect(ignoredByDockerignore('*\n!src/\n**/*.pem', 'src/cli.ts')).toBe(false);
    expect(ignoredByDockerignore('*\n!src/\n**/*.pem', 'src/tls/ca.pem')).toBe(true);
    expect(ignoredByDockerignore('*\n!src/', 'out/results.csv')).toBe(true);
    expect(ignoredByDockerignore('out', 'out/a/b.csv')).toBe(true);
    expect(ignoredByDockerignore('**/out\n!**/out/keep', 'x/out/keep')).toBe(false);
  });
});
