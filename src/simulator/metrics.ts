/**
 * What the simulator saw, for people (`GET /status`, JSON) and for Prometheus (`GET /metrics`).
 * Benchmarks and reliability tests read it to prove the client's limits held (ARCHITECTURE property
 * 3: at most SMSP_MAX_IN_FLIGHT requests open, at most SMSP_MAX_RATE started in any second).
 *
 * Requests started per second is measured over a SLIDING one-second window: after every start, the
 * starts of the last 1,000 ms (the half-open window ending at that start) are counted, and the
 * maximum of those counts is kept. That is the largest number of starts in any one-second window,
 * wherever it falls — fixed per-second buckets would miss a burst that straddles two buckets.
 *
 * Counters hold ids, interactions and codes only: never patient data (ARCHITECTURE property 6).
 */

export interface SimulatorMetricsSnapshot {
  /** When counting began (start-up or the last reset), ISO 8601. */
  since: string;
  /** Requests received on the SMSP endpoint, whatever became of them. */
  requestsTotal: number;
  /** Answers by interaction (`unknown` when none could be read) and code: SMSP-0000, DEMOG-0001,
   *  ITK-1000, HTTP-503, RESET, HANG, ... */
  requests: Record<string, Record<string, number>>;
  /** Faults fired, by kind (`busy`, `fault2100`, ..., and `in-flight-cap` for the provider cap). */
  faults: Record<string, number>;
  /** Protocol rule violations by rule id. */
  violations: Record<string, number>;
  inFlight: number;
  maxInFlight: number;
  /** Starts in the last second, at the time of the snapshot. */
  startedLastSecond: number;
  /** Most starts seen in any one-second window (sliding). */
  maxStartedPerSecond: number;
  /**
   * When the first and the last request counted arrived, in milliseconds after `since` (null before
   * any): a benchmark's request rate is `requestsTotal - 1` over the time between them, read off
   * the simulator's own clock rather than by polling it.
   */
  firstRequestMs: number | null;
  lastRequestMs: number | null;
}

const WINDOW_MS = 1000;
const PREFIX = 'pds_trace_simulator';

export class SimulatorMetrics {
  readonly #clock: () => number;
  #since = new Date();
  #sinceClock: number;
  #firstRequest: number | null = null;
  #lastRequest: number | null = null;
  #requestsTotal = 0;
  #requests = new Map<string, Map<string, number>>();
  #faults = new Map<string, number>();
  #violations = new Map<string, number>();
  #inFlight = 0;
  #maxInFlight = 0;
  #maxStartedPerSecond = 0;
  /** Start times inside the current window; `#head` skips expired ones without shifting the array. */
  #starts: number[] = [];
  #head = 0;

  /** @param clock monotonic milliseconds (performance.now by default; tests pass their own). */
  constructor(clock: () => number = () => performance.now()) {
    this.#clock = clock;
    this.#sinceClock = clock();
  }

  /** A request arrived: it is in flight until `requestFinished`. */
  requestStarted(): void {
    this.#requestsTotal++;
    this.#inFlight++;
    this.#maxInFlight = Math.max(this.#maxInFlight, this.#inFlight);
    const now = this.#clock();
    this.#firstRequest ??= now;
    this.#lastRequest = now;
    this.#starts.push(now);
    this.#expire(now);
    this.#maxStartedPerSecond = Math.max(this.#maxStartedPerSecond, this.#starts.length - this.#head);
  }

  requestFinished(): void {
    this.#inFlight = Math.max(0, this.#inFlight - 1);
  }

  /** The requests currently open. */
  get inFlight(): number {
    return this.#inFlight;
  }

  recordAnswer(interaction: string | undefined, code: string): void {
    const key = interaction ?? 'unknown';
    const byCode = this.#requests.get(key) ?? new Map<string, number>();
    increment(byCode, code);
    this.#requests.set(key, byCode);
  }

  recordFault(kind: string): void {
    increment(this.#faults, kind);
  }

  recordViolations(rules: readonly string[]): void {
    for (const rule of rules) increment(this.#violations, rule);
  }

  /**
   * Starts counting afresh (benchmarks call it between runs). Requests still open stay in flight:
   * their ends will be counted, so the maximum restarts from what is open now.
   */
  reset(): void {
    this.#since = new Date();
    this.#sinceClock = this.#clock();
    this.#firstRequest = null;
    this.#lastRequest = null;
    this.#requestsTotal = 0;
    this.#requests = new Map();
    this.#faults = new Map();
    this.#violations = new Map();
    this.#maxInFlight = this.#inFlight;
    this.#starts = [];
    this.#head = 0;
    this.#maxStartedPerSecond = 0;
  }

  snapshot(): SimulatorMetricsSnapshot {
    this.#expire(this.#clock());
    return {
      since: this.#since.toISOString(),
      requestsTotal: this.#requestsTotal,
      requests: Object.fromEntries([...this.#requests].map(([interaction, byCode]) => [interaction, Object.fromEntries(byCode)])),
      faults: Object.fromEntries(this.#faults),
      violations: Object.fromEntries(this.#violations),
      inFlight: this.#inFlight,
      maxInFlight: this.#maxInFlight,
      startedLastSecond: this.#starts.length - this.#head,
      maxStartedPerSecond: this.#maxStartedPerSecond,
      firstRequestMs: this.#firstRequest === null ? null : this.#firstRequest - this.#sinceClock,
      lastRequestMs: this.#lastRequest === null ? null : this.#lastRequest - this.#sinceClock,
    };
  }

  #expire(now: number): void {
    while (this.#head < this.#starts.length && this.#starts[this.#head]! <= now - WINDOW_MS) this.#head++;
    // Compact now and then so the array does not keep every start of a long run.
    if (this.#head > 1024 && this.#head * 2 > this.#starts.length) {
      this.#starts = this.#starts.slice(this.#head);
      this.#head = 0;
    }
  }
}

function increment(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/** The Prometheus text exposition format, version 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export function renderPrometheus(snapshot: SimulatorMetricsSnapshot): string {
  const lines: string[] = [];
  const metric = (name: string, type: 'counter' | 'gauge', help: string, samples: Array<[Record<string, string>, number]>) => {
    lines.push(`# HELP ${PREFIX}_${name} ${help}`, `# TYPE ${PREFIX}_${name} ${type}`);
    for (const [labels, value] of samples) lines.push(`${PREFIX}_${name}${renderLabels(labels)} ${value}`);
  };
  metric('requests_received_total', 'counter', 'Requests received on the SMSP endpoint.', [[{}, snapshot.requestsTotal]]);
  metric(
    'requests_total',
    'counter',
    'Requests answered, by interaction and response code (SMSP/DEMOG code, ITK-<code>, HTTP-<status>, RESET, HANG).',
    Object.entries(snapshot.requests).flatMap(([interaction, byCode]) =>
      Object.entries(byCode).map(([code, count]): [Record<string, string>, number] => [{ interaction, code }, count]),
    ),
  );
  metric('faults_total', 'counter', 'Faults fired, by kind.', Object.entries(snapshot.faults).map(([kind, count]) => [{ kind }, count]));
  metric(
    'protocol_violations_total',
    'counter',
    'Protocol rule violations, by rule id.',
    Object.entries(snapshot.violations).map(([rule, count]) => [{ rule }, count]),
  );
  metric('in_flight', 'gauge', 'Requests open now.', [[{}, snapshot.inFlight]]);
  metric('in_flight_max', 'gauge', 'Most requests open at once since start or reset.', [[{}, snapshot.maxInFlight]]);
  metric('requests_started_last_second', 'gauge', 'Requests started in the last second.', [[{}, snapshot.startedLastSecond]]);
  metric(
    'requests_started_per_second_max',
    'gauge',
    'Most requests started in any one-second (sliding) window since start or reset.',
    [[{}, snapshot.maxStartedPerSecond]],
  );
  return `${lines.join('\n')}\n`;
}

function renderLabels(labels: Record<string, string>): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  const escape = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  return `{${entries.map(([name, value]) => `${name}="${escape(value)}"`).join(',')}}`;
}
