import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { describeIssues, traceOptionsSchema, type TraceOptionFields } from '../trace-option-fields.js';

/**
 * The nightly schedules, from the JSON file named by PDS_TRACE_SCHEDULES:
 *
 * ```json
 * { "schedules": [ { "name": "pas-nightly", "cron": "30 2 * * *", "timezone": "Europe/London",
 *     "input": "/srv/extracts/pas", "out": "/srv/results/pas", "owner": "svc-nightly",
 *     "options": { "fallbacks": ["search_without_postcode"] } } ] }
 * ```
 *
 * `input` is a file, or a folder meaning its newest file; relative paths are read from the
 * schedules file's folder. Checked whole before anything is installed, each problem naming the
 * schedule and the key.
 */

export const DEFAULT_TIMEZONE = 'Europe/London';

function validZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const SCHEDULE = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and - only (at most 63), starting with a letter or digit'),
    /** Five fields, or six with seconds first (cron-parser, as BullMQ reads it). */
    cron: z.string().min(1),
    timezone: z.string().default(DEFAULT_TIMEZONE).refine(validZone, 'not a time zone (use an IANA name such as Europe/London)'),
    input: z.string().min(1),
    out: z.string().min(1),
    /** The service account accountable for every run. */
    owner: z.string().min(1),
    options: traceOptionsSchema.default(traceOptionsSchema.parse({})),
  })
  .strict();

const FILE = z.object({ schedules: z.array(SCHEDULE) }).strict();

export interface Schedule {
  name: string;
  cron: string;
  timezone: string;
  /** Absolute. */
  input: string;
  /** Absolute. */
  out: string;
  owner: string;
  options: TraceOptionFields;
  /** The schedules file's folder: where a relative mapping is read from. */
  baseDir: string;
}

export class ScheduleFileError extends Error {
  override readonly name = 'ScheduleFileError';
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: ${problems.join('; ')}`);
  }
}

/** A problem as a person finds it in the file: `schedule "name": key: problem`. */
function located(raw: unknown, issuePath: readonly PropertyKey[], line: string): string {
  const [top, index] = issuePath;
  if (top !== 'schedules' || typeof index !== 'number') return line;
  const name = (raw as { schedules?: Array<{ name?: unknown }> }).schedules?.[index]?.name;
  return `schedule ${typeof name === 'string' ? `"${name}"` : `#${index + 1}`}: ${line.replace(/^schedules\.\d+\.?/, '') || line}`;
}

export function parseSchedules(raw: unknown, file: string): Schedule[] {
  const parsed = FILE.safeParse(raw);
  if (!parsed.success) {
    const lines = describeIssues(parsed.error.issues);
    throw new ScheduleFileError(
      file,
      parsed.error.issues.map((issue, i) => located(raw, issue.path, lines[i]!)),
    );
  }
  const baseDir = path.dirname(path.resolve(file));
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const s of parsed.data.schedules) {
    if (seen.has(s.name)) problems.push(`schedule "${s.name}": name: used twice`);
    seen.add(s.name);
    try {
      CronExpressionParser.parse(s.cron, { tz: s.timezone });
    } catch (err) {
      problems.push(`schedule "${s.name}": cron: ${(err as Error).message}`);
    }
  }
  if (problems.length > 0) throw new ScheduleFileError(file, problems);
  return parsed.data.schedules.map((s) => ({
    ...s,
    input: path.resolve(baseDir, s.input),
    out: path.resolve(baseDir, s.out),
    baseDir,
  }));
}

export async function loadSchedules(file: string): Promise<Schedule[]> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new ScheduleFileError(file, [`not readable as JSON (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`]);
  }
  return parseSchedules(raw, file);
}

