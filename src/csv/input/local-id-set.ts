/**
 * Remembers which local ids a file has used, to flag duplicates, in 8 bytes per id (two 32-bit
 * hashes in an open-addressed table) rather than the ids themselves: a million-row file costs about
 * 16 MB instead of a Set of a million strings. Two different ids share both hashes with
 * probability about n²/2⁶⁵ (3·10⁻⁸ for a million ids); the cost of that is one advisory
 * `duplicate_local_id` flag, never a lost or changed row.
 */
const MIN_CAPACITY = 1024;

export class LocalIdSet {
  private slots: Uint32Array;
  private count = 0;

  /**
   * @param expectedIds ids the caller expects (a batch's row count): the table starts at twice that
   *   many slots, the most it would reach, so it never doubles on the way, which for a million ids
   *   held 8 MB of old slots beside 16 MB of new ones.
   */
  constructor(expectedIds = 0) {
    this.slots = new Uint32Array(2 * Math.max(MIN_CAPACITY, 2 * Math.ceil(expectedIds)));
  }

  /** Adds the id; true when it was already present. */
  addAndCheck(id: string): boolean {
    const [h1, h2] = hashes(id);
    if ((this.count + 1) * 2 > this.slots.length / 2) this.grow();
    return this.insert(h1, h2);
  }

  get size(): number {
    return this.count;
  }

  private insert(h1: number, h2: number): boolean {
    const capacity = this.slots.length / 2;
    // h1 scaled to [0, capacity) (Lemire's "fastrange"): any capacity, not only a power of two.
    // Exact enough: h1 / 2³² is exact, and the product's rounding is far below the last slot's margin.
    let i = Math.floor((h1 / 2 ** 32) * capacity);
    for (;;) {
      const a = this.slots[2 * i]!;
      if (a === 0) {
        this.slots[2 * i] = h1;
        this.slots[2 * i + 1] = h2;
        this.count++;
        return false;
      }
      if (a === h1 && this.slots[2 * i + 1] === h2) return true;
      i = i + 1 === capacity ? 0 : i + 1;
    }
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Uint32Array(old.length * 2);
    this.count = 0;
    for (let i = 0; i < old.length; i += 2) {
      if (old[i] !== 0) this.insert(old[i]!, old[i + 1]!);
    }
  }
}

/** FNV-1a and a multiply-xorshift hash of the UTF-16 code units; the first is never 0 (0 marks an empty slot). */
function hashes(id: string): [number, number] {
  let h1 = 0x811c9dc5;
  let h2 = 0x9e3779b9 ^ id.length;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  h2 = Math.imul(h2 ^ (h2 >>> 13), 0xc2b2ae35);
  return [(h1 >>> 0) || 1, (h2 ^ (h2 >>> 16)) >>> 0];
}
