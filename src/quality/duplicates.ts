import type { PatientQuery } from '../domain/demographics.js';
import type { RowResult } from '../domain/row-result.js';

/**
 * Which rows of one file share an NHS number, supplied or returned (MSCA-DQ-01), and which rows
 * hold a superseded number's replacement (MSCA-DQ-03, FLGINV-7), found in two passes over the
 * batch: the first adds every row's numbers, `seal()` sorts them, the second asks per row.
 *
 * Memory stays compact for a million-row file (ARCHITECTURE property 5): no row is kept, only
 * 9 bytes per number in three typed arrays (see {@link NhsNumberIndex}), sorted once, in place, by
 * number, role and row; a row's findings are then two binary searches per number. A number held by
 * many rows lists at most {@link MAX_RELATED_ROWS} of them, so a pathological file cannot make
 * every row's report quadratic.
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

/** Capacity of an index told nothing of its size, and the least a growth adds. */
const MIN_CAPACITY = 1024;

/**
 * The ten digits as two typed-array cells without loss: the first nine (below 10⁹ < 2³²) as a
 * uint32 `head`, the last digit beside the role in a byte (`tail` = digit × 2 + role, 0–19). Then
 * head × 20 + tail = number × 2 + role exactly, so ordering by (head, tail) is ordering by
 * (number, role): 5 bytes where a float64 and a role byte took 9.
 */
function headOf(key: number): number {
  return Math.floor(key / 10);
}
function tailOf(key: number, role: Role): number {
  return (key % 10) * 2 + role;
}

export class NhsNumberIndex {
  private heads: Uint32Array;
  private tails: Uint8Array;
  private rows: Uint32Array;
  private length = 0;
  private sealed = false;

  /**
   * @param expectedEntries numbers the caller expects to add (e.g. the batch's row count): the
   *   arrays start that large, so a million-row file is not copied into ever larger ones (each
   *   doubling held the old arrays beside the new, off the V8 heap where the heap limit does not reach).
   */
  constructor(expectedEntries = MIN_CAPACITY) {
    const capacity = Math.max(MIN_CAPACITY, Math.ceil(expectedEntries));
    this.heads = new Uint32Array(capacity);
    this.tails = new Uint8Array(capacity);
    this.rows = new Uint32Array(capacity);
  }

  /** Numbers recorded (a row holding two numbers counts twice). */
  get size(): number {
    return this.length;
  }

  add(rowNumber: number, numbers: RowNhsNumbers): void {
    if (this.sealed) throw new NhsNumberIndexStateError('add');
    for (const [key, role] of entriesOf(numbers)) {
      if (this.length === this.heads.length) this.grow();
      this.heads[this.length] = headOf(key);
      this.tails[this.length] = tailOf(key, role);
      this.rows[this.length] = rowNumber;
      this.length++;
    }
  }

  /**
   * Sorts by number, then role (own before replacement), then row, in place. Not with
   * `TypedArray.prototype.sort(compare)` over an order array: V8 copies the elements into two
   * FixedArrays on the heap to sort them with a comparator, and the result then had to be copied
   * out again, which at a million numbers held ~70 MB for the moment of the sort (issue 5).
   * Heapsort: no extra memory and n log n whatever order the file is in.
   */
  seal(): void {
    if (this.sealed) return;
    const n = this.length;
    for (let i = (n >>> 1) - 1; i >= 0; i--) this.siftDown(i, n);
    for (let end = n - 1; end > 0; end--) {
      this.swap(0, end);
      this.siftDown(0, end);
    }
    this.sealed = true;
  }

  findings(rowNumber: number, numbers: RowNhsNumbers): DuplicateFindings {
    if (!this.sealed) throw new NhsNumberIndexStateError('findings');
    const duplicate = new RelatedCollector(rowNumber);
    const mergeReview = new RelatedCollector(rowNumber);
    for (const [key, role] of entriesOf(numbers)) {
      const start = this.firstAtLeast(key * 2 + OWN, 0);
      const end = this.firstAtLeast((key + 1) * 2 + OWN, start);
      const firstReplacement = this.firstAtLeast(key * 2 + REPLACEMENT, start, end);
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

  /** number × 2 + role of entry i (exact: below 2³⁵). */
  private numberAndRole(i: number): number {
    return this.heads[i]! * 20 + this.tails[i]!;
  }

  /** Lower bound of a number × 2 + role in [from, to). */
  private firstAtLeast(numberAndRole: number, from: number, to = this.length): number {
    let lo = from;
    let hi = to;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.numberAndRole(mid) < numberAndRole) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private less(a: number, b: number): boolean {
    const ka = this.numberAndRole(a);
    const kb = this.numberAndRole(b);
    return ka < kb || (ka === kb && this.rows[a]! < this.rows[b]!);
  }

  private siftDown(root: number, end: number): void {
    for (let parent = root; ; ) {
      let child = 2 * parent + 1;
      if (child >= end) return;
      if (child + 1 < end && this.less(child, child + 1)) child++;
      if (!this.less(parent, child)) return;
      this.swap(parent, child);
      parent = child;
    }
  }

  private swap(a: number, b: number): void {
    const { heads, tails, rows } = this;
    const head = heads[a]!;
    const tail = tails[a]!;
    const row = rows[a]!;
    heads[a] = heads[b]!;
    tails[a] = tails[b]!;
    rows[a] = rows[b]!;
    heads[b] = head;
    tails[b] = tail;
    rows[b] = row;
  }

  /** By an eighth, not double: past the expected size, a doubling would hold up to twice what is needed. */
  private grow(): void {
    const capacity = this.heads.length + Math.max(MIN_CAPACITY, this.heads.length >>> 3);
    const heads = new Uint32Array(capacity);
    const tails = new Uint8Array(capacity);
    const rows = new Uint32Array(capacity);
    heads.set(this.heads);
    tails.set(this.tails);
    rows.set(this.rows);
    this.heads = heads;
    this.tails = tails;
    this.rows = rows;
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
