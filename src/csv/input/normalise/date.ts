/**
 * Dates of birth in the forms files hold them, to the PDS form YYYYMMDD / YYYYMM / YYYY
 * (batch-formats.md §6.1): YYYYMMDD, YYYYMMDDHHMM (PDS MESH), YYYY-MM-DD and YYYY/MM/DD,
 * DD/MM/YYYY, DD-MM-YYYY and DD.MM.YYYY (month-first when `dayFirst` is false), 3-Apr-2001,
 * partial YYYYMM, YYYY-MM, MM/YYYY and YYYY, a trailing time of day (database exports), and Excel
 * serial day numbers (a date cell exported as its number). A two-digit year is reported, not
 * guessed: 01 could be 1901 or 2001.
 */
import type { PdsDate } from '../../../domain/demographics.js';
import { EMPTY, isBlankCode, problem, type FieldResult } from './field-result.js';

export interface DateOptions {
  /** 03/04/2001 is 3 April when true (UK), 4 March when false. */
  dayFirst: boolean;
  today: Date;
}

/** Earliest year accepted; earlier ones are database placeholders (0001-01-01, 1753-01-01). */
export const EARLIEST_BIRTH_YEAR = 1850;

/** Excel's 1900 date system counts days from 1899-12-30 once past its phantom 29 February 1900. */
const EXCEL_EPOCH_MS = Date.UTC(1899, 11, 30);
const DAY_MS = 86_400_000;

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const TIME_OF_DAY = /[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:am|pm)?\s*(?:z|[+-]\d{2}:?\d{2})?$/i;
const SEP = '[-/.]';

interface Parts {
  year: number;
  month?: number;
  day?: number;
}

export function normaliseDateOfBirth(raw: string, options: DateOptions): FieldResult<PdsDate> {
  if (isBlankCode(raw)) return EMPTY;
  const text = raw.trim().replace(TIME_OF_DAY, '').trim();
  let m: RegExpMatchArray | null;

  if ((m = text.match(/^(\d{5})(?:\.\d+)?$/))) return fromExcelSerial(Number(m[1]), options.today);
  if ((m = text.match(/^(\d{4})(\d{2})(\d{2})(?:\d{4})?$/))) return check({ year: +m[1]!, month: +m[2]!, day: +m[3]! }, options.today, 'eight digits are read as YYYYMMDD');
  if ((m = text.match(/^(\d{4})(\d{2})$/))) return check({ year: +m[1]!, month: +m[2]! }, options.today, 'six digits are read as YYYYMM');
  if ((m = text.match(/^(\d{4})$/))) return check({ year: +m[1]! }, options.today);
  if ((m = text.match(new RegExp(`^(\\d{4})${SEP}(\\d{1,2})${SEP}(\\d{1,2})$`)))) return check({ year: +m[1]!, month: +m[2]!, day: +m[3]! }, options.today);
  if ((m = text.match(new RegExp(`^(\\d{4})${SEP}(\\d{1,2})$`)))) return check({ year: +m[1]!, month: +m[2]! }, options.today);
  if ((m = text.match(new RegExp(`^(\\d{1,2})${SEP}(\\d{4})$`)))) return check({ year: +m[2]!, month: +m[1]! }, options.today);
  if ((m = text.match(new RegExp(`^(\\d{1,2})${SEP}(\\d{1,2})${SEP}(\\d{2}|\\d{4})$`)))) {
    if (m[3]!.length === 2) return problem('date_of_birth_ambiguous');
    const [first, second] = [+m[1]!, +m[2]!];
    const [day, month] = options.dayFirst ? [first, second] : [second, first];
    if (month > 12 && day <= 12) {
      return problem('date_of_birth_invalid', options.dayFirst
        ? 'the date of birth has a month over 12 when read day-first; if the file writes dates month-first, set dayFirst to false'
        : 'the date of birth has a month over 12 when read month-first; if the file writes dates day-first, set dayFirst to true');
    }
    return check({ year: +m[3]!, month, day }, options.today);
  }
  if ((m = text.match(/^(\d{1,2})[-/. ]?([a-z]{3,9})\.?[-/., ]+(\d{2}|\d{4})$/i))) {
    const month = MONTHS.indexOf(m[2]!.slice(0, 3).toLowerCase()) + 1;
    if (month === 0 || !isMonthName(m[2]!)) return problem('date_of_birth_format');
    if (m[3]!.length === 2) return problem('date_of_birth_ambiguous');
    return check({ year: +m[3]!, month, day: +m[1]! }, options.today);
  }
  return problem('date_of_birth_format');
}

function isMonthName(word: string): boolean {
  const lower = word.toLowerCase();
  const full = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
  return full.some((name) => name === lower || name.slice(0, 3) === lower || (lower === 'sept' && name === 'september'));
}

function fromExcelSerial(serial: number, today: Date): FieldResult<PdsDate> {
  const date = new Date(EXCEL_EPOCH_MS + serial * DAY_MS);
  const parts = { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
  if (sortKey(parts) > todayKey(today)) return problem('date_of_birth_excel_serial_out_of_range');
  const result = check(parts, today);
  return result.kind === 'value' ? { ...result, flag: 'date_of_birth_excel_serial' } : result;
}

function check(parts: Parts, today: Date, shape?: string): FieldResult<PdsDate> {
  const { year, month, day } = parts;
  if (year < 1000) return problem('date_of_birth_format', shape);
  if (month !== undefined && (month < 1 || month > 12)) return problem('date_of_birth_invalid', shape);
  if (month !== undefined && day !== undefined && (day < 1 || day > daysInMonth(year, month))) return problem('date_of_birth_invalid', shape);
  if (year < EARLIEST_BIRTH_YEAR) return problem('date_of_birth_implausible');
  if (sortKey(parts) > todayKey(today)) return problem('date_of_birth_in_future');
  const pad = (n: number) => String(n).padStart(2, '0');
  return { kind: 'value', value: `${year}${month === undefined ? '' : pad(month)}${day === undefined ? '' : pad(day)}` };
}

/** Comparable as numbers; a partial date sorts at the start of its period, so 2025 is not "after" 2025-06-30. */
function sortKey({ year, month, day }: Parts): number {
  return year * 10_000 + (month ?? 0) * 100 + (day ?? 0);
}

/** Today's date where the user is: a birth "today" is not in the future. */
function todayKey(today: Date): number {
  return sortKey({ year: today.getFullYear(), month: today.getMonth() + 1, day: today.getDate() });
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
