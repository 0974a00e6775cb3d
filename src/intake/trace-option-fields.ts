import path from 'node:path';
import { z } from 'zod';
import { FALLBACKS, type Fallback } from '../pipeline/strategy.js';
import type { TraceOptions } from './submit.js';

/**
 * The trace options an unattended way in reads from a file (a watched folder's `pds-trace.json`, a
 * schedule's `options`), as `pds-trace trace` takes them from its flags: one set of keys, one set of
 * defaults, so a folder and a schedule mean the same by `"minimal": true`.
 */
export const TRACE_OPTION_FIELDS = {
  format: z.enum(['native', 'mesh']).default('native'),
  /** A mapping file, relative to the file that names it. */
  mapping: z.string().min(1).optional(),
  minimal: z.boolean().default(false),
  fallbacks: z.array(z.enum(Object.keys(FALLBACKS) as [Fallback, ...Fallback[]])).default([]),
  bom: z.boolean().default(false),
  monthFirst: z.boolean().default(false),
  chunkSize: z.number().int().positive().default(500),
};

const TRACE_OPTIONS = z.object(TRACE_OPTION_FIELDS).strict();
export type TraceOptionFields = z.output<typeof TRACE_OPTIONS>;
export const traceOptionsSchema = TRACE_OPTIONS;

/** The options as the intake takes them; relative paths are read from `baseDir`. */
export function traceOptionsFrom(fields: TraceOptionFields, baseDir: string, outDir: string): TraceOptions {
  return {
    format: fields.format,
    mappingFile: fields.mapping ? path.resolve(baseDir, fields.mapping) : undefined,
    minimal: fields.minimal,
    fallbacks: fields.fallbacks,
    outDir,
    bom: fields.bom,
    dayFirst: !fields.monthFirst,
    chunkSize: fields.chunkSize,
  };
}

/** zod's findings as `key: problem` lines a person can act on (an unknown key names itself). */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : issue.path.join('.');
    return `${keys || '(top level)'}: ${issue.message}`;
  });
}
