/**
 * The last `capacity` ids seen, in a Set for look-up and a ring for eviction: memory stays flat
 * however many answers a batch reads (ARCHITECTURE property 5). 50,000 UUIDs take about 4 MB.
 */
export class RecentIds {
  readonly #capacity: number;
  readonly #seen = new Set<string>();
  readonly #ring: string[] = [];
  #next = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('RecentIds: capacity must be an integer >= 1');
    this.#capacity = capacity;
  }

  /** Records `id`; true when it was already among the last `capacity` ids recorded. */
  remember(id: string): boolean {
    if (this.#seen.has(id)) return true;
    if (this.#ring.length < this.#capacity) {
      this.#ring.push(id);
    } else {
      this.#seen.delete(this.#ring[this.#next]!);
      this.#ring[this.#next] = id;
      this.#next = (this.#next + 1) % this.#capacity;
    }
    this.#seen.add(id);
    return false;
  }

  get size(): number {
    return this.#seen.size;
  }
}
