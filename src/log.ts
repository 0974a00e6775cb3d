import winston from 'winston';
import type { Writable } from 'node:stream';
import type { Config, LogFormat } from './config.js';

/**
 * The pds-trace logger, through winston, with a redaction format that every line passes whatever
 * its form: one line of text for a person at a terminal, JSON lines for a file or a log collector.
 * The rule is to never hand patient data to the logger (log row numbers, batch ids, codes); the
 * redaction is the net under that rule: it drops fields named like demographics and masks anything
 * in a string that looks like an NHS number, a date of birth or a postcode.
 */

/** Field names whose values are demographics, whatever their case or separators. */
const PII_KEYS = new Set(
  [
    'nhsnumber', 'nhsno', 'nhs', 'name', 'names', 'familyname', 'givenname', 'givennames', 'surname', 'forename',
    'forenames', 'firstname', 'lastname', 'title', 'dob', 'dateofbirth', 'birthdate', 'birthtime', 'dateofdeath',
    'deceasedtime', 'postcode', 'postalcode', 'address', 'addresses', 'addressline', 'lines', 'telecom',
    'telecoms', 'phone', 'email', 'row', 'record', 'rawrow', 'values', 'patient', 'query', 'demographics',
    'body', 'xml', 'request', 'response', 'localid',
  ],
);

export const REDACTED = '[REDACTED]';

// Ten digits, optionally grouped 3-3-4 with spaces or dashes (how NHS numbers are written).
const NHS_NUMBER_PATTERN = /\b\d{3}[ -]?\d{3}[ -]?\d{4}\b/g;
// Dates: YYYYMMDD, YYYY-MM-DD, DD/MM/YYYY and friends.
const DATE_PATTERN = /\b(?:(?:19|20)\d{2}[-/.]?(?:0[1-9]|1[0-2])[-/.]?(?:0[1-9]|[12]\d|3[01])|(?:0?[1-9]|[12]\d|3[01])[-/.](?:0?[1-9]|1[0-2])[-/.](?:19|20)?\d{2})\b/g;
// UK postcodes, with or without the space.
const POSTCODE_PATTERN = /\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b/gi;

function normaliseKey(key: string): string {
  return key.toLowerCase().replace(/[^a-z]/g, '');
}

export function redactString(value: string): string {
  return value
    .replace(NHS_NUMBER_PATTERN, REDACTED)
    .replace(DATE_PATTERN, REDACTED)
    .replace(POSTCODE_PATTERN, REDACTED);
}

/** Returns a copy of `value` with PII-named fields replaced and PII-shaped strings masked. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactString(value);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    return { name: value.name, message: redactString(value.message), stack: value.stack && redactString(value.stack) };
  }
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = PII_KEYS.has(normaliseKey(k)) ? REDACTED : redactValue(v, depth + 1);
  }
  return out;
}

/** winston format applying `redactValue` to every field of the info object, message and stack included. */
export const redactFormat = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (key === 'level') continue;
    info[key] = PII_KEYS.has(normaliseKey(key)) ? REDACTED : redactValue(info[key]);
  }
  return info;
});

export type Logger = winston.Logger;

export interface LoggerOptions {
  level?: string;
  /** Where lines go; standard error by default so standard output stays for command results. */
  stream?: Writable & { isTTY?: boolean };
  /** `text` or `json`; by default text when the lines go to a terminal, JSON lines otherwise. */
  format?: LogFormat;
}

/** The logger a command makes from the configuration (LOG_LEVEL, PDS_TRACE_LOG_FORMAT or --log-format). */
export function loggerFor(config: Pick<Config, 'logLevel' | 'logFormat'>): Logger {
  return createLogger({ level: config.logLevel, format: config.logFormat });
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const transport = options.stream
    ? new winston.transports.Stream({ stream: options.stream })
    : new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] });
  const level = options.level ?? 'info';
  const format = options.format ?? ((options.stream ?? process.stderr).isTTY ? 'text' : 'json');
  return winston.createLogger({
    level,
    // errors() before redaction and the line's form, at logger level: per-transport it loses the
    // stack (winston issues #1338, #2283).
    format: winston.format.combine(
      winston.format.errors({ stack: true }),
      redactFormat(),
      format === 'text' ? textLine(level === 'debug') : winston.format.combine(winston.format.timestamp(), winston.format.json()),
    ),
    transports: [transport],
  });
}

/**
 * `10:01:50 warn  chunk failed batchId=b1 chunk=3`: local time, level, message, then the fields.
 * A stack only at LOG_LEVEL=debug: a person at a terminal reads what happened, not where.
 */
function textLine(withStack: boolean): winston.Logform.Format {
  return winston.format.printf((info) => {
    const fields = Object.entries(info)
      .filter(([key, value]) => !['level', 'message', 'stack', 'timestamp'].includes(key) && value !== undefined)
      .map(([key, value]) => `${key}=${typeof value === 'string' && !/\s/.test(value) ? value : JSON.stringify(value)}`);
    const time = new Date().toTimeString().slice(0, 8);
    const stack = withStack && typeof info.stack === 'string' ? `\n${info.stack}` : '';
    return [time, info.level.padEnd(5), String(info.message), ...fields].join(' ') + stack;
  });
}
