import type { PatientQuery } from '../domain/demographics.js';
import type { RowResult } from '../domain/row-result.js';

/**
 * Which rows of one file share an NHS number, supplied or returned (MSCA-DQ-01), and which rows
 * hold a superseded number's replacement (MSCA-DQ-03, FLGINV-7), found in two passes over the
 * batch: the first adds every row's numbers, `seal()` sorts them, the second asks per row.
 *
 * Memory stays compact for a million-row file (ARCHITECTURE property 5): no row is kept, only
 * 13 bytes per number in three typed arrays (the number as a float64, the row as a uint32, the
 * role as a byte), sorted once by number, role and row; a row's findings are then two binary
 * searches per number. A number held by many rows lists at most {@link MAX_RELATED_ROWS} of them,
 * so a pathological file cannot make every row's report quadratic.
 */

/** How a row holds a number: as its own (supplied or returned), or as the replacement PDS gave for a superseded one. */
const OWN = 0;
const REPLACEMENT = 1;
type Role = typeof OWN | typeof REPLACEMENT;

/** Related rows listed per finding; `more` says when others were left out. */
export const MAX_RELATED_ROWS = 20;

/** The NHS numbers a row holds. */
export interface RowNhsNumbers {
  /** The number the row supplied, normalised to ten digits. */
  supplied?: string;
  /** The number PDS returned for the row. */
  returned?: string;
  /** True when `returned` is the replacement of a superseded `supplied` (DEMOG-0017). */
  returnedIsReplacement: boolean;
}

export interface RelatedRows {
  /** Other rows of the file, ascending, at most {@link MAX_RELATED_ROWS}. */
  rows: number[];
  /** True when more rows than those listed are related. */
  more: boolean;
}

export interface DuplicateFindings {
  /** Other rows holding one of this row's own numbers as their own. */
  duplicate?: RelatedRows;
  /**
   * A superseded row whose replacement another row holds, or a row holding a number that is
   * another row's replacement: both go to the back office for a merge instead of a replacement.
   */
  mergeReview?: RelatedRows;
}

/** A row's numbers from its normalised query and its result. */
export function rowNhsNumbers(query: PatientQuery | undefined, result: RowResult): RowNhsNumbers {
  const supplied = query?.nhsNumber ?? result.supersededNhsNumber;
  const returned = result.nhsNumber ?? result.patient?.nhsNumber;
  return {
    ...(supplied ? { supplied } : {}),
    ...(returned ? { returned } : {}),
    returnedIsReplacement: result.status === 'superseded' && returned !== undefined && returned !== supplied,
  };
}

/** Only ten-digit numbers are compared; anything else cannot be the same patient's number. */
function numberKey(value: string | undefined): number | undefined {
  return value !== undefined && /^\d{10}$/.test(value) ? Number(value) : undefined;
}

/** A row's numbers as (key, role), each number once: a number both supplied and returned is the row's own. */
function entriesOf(numbers: RowNhsNumbers): Array<[number, Role]> {
  const entries: Array<[number, Role]> = [];
  const supplied = numberKey(numbers.supplied);
  const returned = numberKey(numbers.returned);
  if (supplied !== undefined) entries.push([supplied, OWN]);
  if (returned !== undefined && returned !== supplied) entries.push([returned, numbers.returnedIsReplacement ? REPLACEMENT : OWN]);
  return entries;
}

/** Thrown when the index is used out of order (asked before sealed, or added to after). */
export class NhsNumberIndexStateError extends Error {
  override readonly name = 'NhsNumberIndexStateError';
  constructor(readonly operation: 'add' | 'findings') {
    super(operation === 'add' ? 'the NHS number index is sealed: no more rows can be added' : 'the NHS number index must be sealed before it is asked');
  }
}

export class NhsNumberIndex {
  private keys = new Float64Array(1024);
  private rows = new Uint32Array(1024);
  private roles = new Uint8Array(1024);
  private length = 0;
  private sealed = false;

  /** Numbers recorded (a row holding two numbers counts twice). */
  get size(): number {
    return this.length;
  }

  add(rowNumber: number, numbers: RowNhsNumbers): void {
    if (this.sealed) throw new NhsNumberIndexStateError('add');
    for (const [key, role] of entriesOf(numbers)) {
      if (this.length === this.keys.length) this.grow();
      this.keys[this.length] = key;
      this.rows[this.length] = rowNumber;
      this.roles[this.length] = role;
      this.length++;
    }
  }

  /** Sorts by number, then role (own before replacement), then row, and trims the arrays. */
  seal(): void {
    if (this.sealed) return;
    const { keys, rows, roles } = this;
    const order = new Uint32Array(this.length);
    for (let i = 0; i < order.length; i++) order[i] = i;
    order.sort((a, b) => keys[a]! - keys[b]! || roles[a]! - roles[b]! || rows[a]! - rows[b]!);
    this.keys = Float64Array.from(order, (i) => keys[i]!);
    this.rows = Uint32Array.from(order, (i) => rows[i]!);
    this.roles = Uint8Array.from(order, (i) => roles[i]!);
    this.sealed = true;
  }

  findings(rowNumber: number, numbers: RowNhsNumbers): DuplicateFindings {
    if (!this.sealed) throw new NhsNumberIndexStateError('findings');
    const duplicate = new RelatedCollector(rowNumber);
    const mergeReview = new RelatedCollector(rowNumber);
    for (const [key, role] of entriesOf(numbers)) {
      const start = this.firstAtLeast(key, OWN, 0);
      const end = this.firstAtLeast(key + 1, OWN, start);
      const firstReplacement = this.firstAtLeast(key, REPLACEMENT, start, end);
      const owners = firstReplacement - start;
      const replacements = end - firstReplacement;
      if (role === OWN && owners >= 2) duplicate.take(this.rows, start, firstReplacement);
      if (replacements >= 1 && end - start >= 2) {
        mergeReview.take(this.rows, start, firstReplacement);
        mergeReview.take(this.rows, firstReplacement, end);
      }
    }
    return {
      ...(duplicate.found ? { duplicate: duplicate.result() } : {}),
      ...(mergeReview.found ? { mergeReview: mergeReview.result() } : {}),
    };
  }

  /** Lower bound of (key, role) in [from, to). */
  private firstAtLeast(key: number, role: Role, from: number, to = this.length): number {
    let lo = from;
    let hi = to;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const k = this.keys[mid]!;
      if (k < key || (k === key && this.roles[mid]! < role)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private grow(): void {
    const capacity = this.keys.length * 2;
    const keys = new Float64Array(capacity);
    const rows = new Uint32Array(capacity);
    const roles = new Uint8Array(capacity);
    keys.set(this.keys);
    rows.set(this.rows);
    roles.set(this.roles);
    this.keys = keys;
    this.rows = rows;
    this.roles = roles;
  }
}

/**
 * Other rows from segments of the sorted index (each ascending by row): the lowest
 * MAX_RELATED_ROWS of them overall, each once, whatever order the segments come in.
 */
class RelatedCollector {
  private readonly rows = new Set<number>();
  private truncated = false;
  found = false;

  constructor(private readonly self: number) {}

  /** Takes the first MAX_RELATED_ROWS + 1 rows of rows[from..to) other than this row: enough to know there are more. */
  take(rows: Uint32Array, from: number, to: number): void {
    let taken = 0;
    for (let i = from; i < to; i++) {
      const row = rows[i]!;
      if (row === this.self) continue;
      this.found = true;
      if (taken === MAX_RELATED_ROWS + 1) {
        this.truncated = true;
        return;
      }
      this.rows.add(row);
      taken++;
    }
  }

  result(): RelatedRows {
    const sorted = [...this.rows].sort((a, b) => a - b);
    return { rows: sorted.slice(0, MAX_RELATED_ROWS), more: this.truncated || sorted.length > MAX_RELATED_ROWS };
  }
}
