/**
 * Mean, 95th percentile and maximum of exchange durations in constant memory: a 1 ms histogram up
 * to one minute (longer than any SMSP timeout pds-trace uses), plus an overflow count whose
 * percentile is reported as the longest duration seen. A million-row batch must not keep a million
 * numbers to report one (ARCHITECTURE property 5).
 */
const HISTOGRAM_LIMIT_MS = 60_000;

export class DurationStats {
  private readonly buckets = new Uint32Array(HISTOGRAM_LIMIT_MS + 1);
  private overflow = 0;
  private total = 0;
  private sum = 0;
  private longest = 0;

  add(durationMs: number): void {
    const ms = Math.max(0, Math.round(durationMs));
    if (ms > HISTOGRAM_LIMIT_MS) this.overflow++;
    else this.buckets[ms]!++;
    this.total++;
    this.sum += ms;
    this.longest = Math.max(this.longest, ms);
  }

  get count(): number {
    return this.total;
  }

  /** Milliseconds, or null when nothing was recorded. */
  mean(): number | null {
    return this.total === 0 ? null : this.sum / this.total;
  }

  max(): number | null {
    return this.total === 0 ? null : this.longest;
  }

  /** Nearest-rank percentile (0 < p ≤ 100) in whole milliseconds, or null when nothing was recorded. */
  percentile(p: number): number | null {
    if (this.total === 0) return null;
    const rank = Math.max(1, Math.ceil((p / 100) * this.total));
    let seen = 0;
    for (let ms = 0; ms <= HISTOGRAM_LIMIT_MS; ms++) {
      seen += this.buckets[ms]!;
      if (seen >= rank) return ms;
    }
    return this.longest;
  }
}
