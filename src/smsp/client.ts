import { setImmediate as nextTurnOfEventLoop } from 'node:timers/promises';
import type { SmspSettings } from '../config.js';
import { ConfigError } from '../config.js';
import type { PatientQuery } from '../domain/demographics.js';
import type { TraceExchange } from '../domain/row-result.js';
import { buildRequest } from './build-request.js';
import { SmspResponseFormatError, SmspTransportError } from './errors.js';
import { newEnvelopeIds } from './ids.js';
import { OID, type Interaction } from './interactions.js';
import { checkQuery } from './local-checks.js';
import { parseResponse } from './parse-response.js';
import { RecentIds } from './recent-ids.js';
import { backoffDelay, DEFAULT_MAX_DELAY_MS, sleep as abortableSleep } from './retry.js';
import { outcomeForResponse, outcomeForTransportError, type Resolution } from './to-outcome.js';
import { createHttpsTransport, loadTlsMaterial, type SmspHttpResponse, type SmspTransport, type TlsMaterial } from './transport.js';
import type { EnvelopeContext, ParsedResponse, SmspOutcome, SmspRequest } from './types.js';

/**
 * The SMSP client: one `call` per trace question, with local checks, fresh envelope ids per attempt,
 * retries with back-off for retryable failures, and the audit trail of every exchange. It answers
 * every SMSP or transport problem with an outcome (`error`, never `no_match`: ARCHITECTURE property 2)
 * and throws only for programmer errors. It knows nothing of CSV or queues; the batch pipeline holds
 * its global limits through the `limiter` hook.
 */

/**
 * Ends a granted attempt, told whether it met a busy provider (HTTP 503) so the limiter can slow
 * everyone down. `sent`, when given, is called at the latest moment the provider can have read the
 * request (the transport's `onSent`): the provider counts arrivals, and a request may reach it well
 * after its grant (behind a TLS handshake), so the limiter counts its start again from then.
 */
export type ReleaseRequest = ((result: { busy: boolean }) => void) & { sent?: () => void };

/** Holds a global in-flight slot and rate token around each attempt. */
export interface SmspLimiter {
  /** Resolves when a request may start; call the returned function when it has finished. */
  acquire(signal?: AbortSignal): Promise<ReleaseRequest>;
}

export interface SmspClientOptions {
  transport: SmspTransport;
  /** The endpoint URL, sent as wsa:To. */
  url: string;
  /** wsa:From address of this system. */
  fromAddress: string;
  /** wsse:Username sent unless a call names its own user. */
  username: string;
  /** ASID form for NHS Digital SMSP, ITK URI form for other providers (SPEC §3.1). */
  auditIdentity: { type: 'asid' | 'itk'; uri: string };
  /** `attempts` counts the first try (1 = no retry); delays in milliseconds. */
  retry: { attempts: number; baseDelayMs: number; maxDelayMs?: number };
  limiter?: SmspLimiter;
  clock?: () => Date;
  ids?: () => { messageId: string; trackingId: string; payloadId: string; timestampId: string };
  /** Source of [0, 1) draws for back-off jitter. */
  random?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /**
   * How many answer wsa:MessageIDs to remember for replay detection (ARCHITECTURE property 8).
   * Default 50,000 (about 4 MB); memory stays flat however long the client runs.
   */
  replayMemory?: number;
}

export interface SmspCallOptions {
  /** The accountable user for this call (wsse:Username), overriding the client's default. */
  username?: string;
  /** Aborting ends the call as `error`/`aborted`, with no further attempts. */
  signal?: AbortSignal;
}

const DEFAULT_REPLAY_MEMORY = 50_000;

/** What one exchange produced: the outcome, and the answer's own ids for the audit trail. */
interface ExchangeResult {
  resolution: Resolution;
  responseMessageId?: string;
  relatesTo?: string;
}

/** NHS examples set wsu:Expires ten minutes after Created (SPEC §2.1, §10). */
const EXPIRES_IN_SECONDS = 600;

const AUDIT_IDENTITY_TYPE = { asid: OID.asidIdentity, itk: OID.itkIdentity } as const;

/** A granted attempt's hold on the limiter: `end` gives the slot back once, saying whether the provider was busy. */
interface Slot {
  sent?: () => void;
  end: (busy: boolean) => void;
}

const abortedResolution = (): Resolution => outcomeForTransportError(new SmspTransportError('SMSP call abandoned by the caller', { reason: 'aborted', retryable: false }));

export class SmspClient {
  readonly #options: SmspClientOptions;
  readonly #clock: () => Date;
  readonly #ids: NonNullable<SmspClientOptions['ids']>;
  readonly #random: () => number;
  readonly #sleep: NonNullable<SmspClientOptions['sleep']>;
  /** wsa:MessageIDs of answers already read: one seen again is a replay, never a second answer. */
  readonly #answerIds: RecentIds;

  constructor(options: SmspClientOptions) {
    if (!Number.isInteger(options.retry.attempts) || options.retry.attempts < 1) {
      throw new RangeError('SmspClient: retry.attempts must be an integer >= 1');
    }
    this.#options = options;
    this.#clock = options.clock ?? (() => new Date());
    this.#ids = options.ids ?? newEnvelopeIds;
    this.#random = options.random ?? Math.random;
    this.#sleep = options.sleep ?? abortableSleep;
    this.#answerIds = new RecentIds(options.replayMemory ?? DEFAULT_REPLAY_MEMORY);
  }

  async call(interaction: Interaction, query: PatientQuery, options: SmspCallOptions = {}): Promise<SmspOutcome> {
    const started = this.#clock().getTime();
    const exchanges: TraceExchange[] = [];
    const finish = (resolution: Resolution, messageId?: string): SmspOutcome => ({
      ...resolution,
      interaction,
      // Absent rather than undefined, like the Resolution fields (nothing was sent).
      ...(messageId === undefined ? {} : { messageId }),
      exchanges,
      durationMs: this.#clock().getTime() - started,
    });

    // A query PDS would reject is answered locally and never sent (the row is the caller's to fix).
    const problem = checkQuery(interaction, query);
    if (problem) {
      return finish({ status: 'invalid_input', reason: problem.reason, retryable: false, detail: `${problem.field}: ${problem.message}` });
    }

    const { signal } = options;
    const { attempts, baseDelayMs, maxDelayMs = DEFAULT_MAX_DELAY_MS } = this.#options.retry;
    let lastMessageId: string | undefined;
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) return finish(abortedResolution(), lastMessageId);
      const release = await this.#acquire(signal);
      if (!release) return finish(abortedResolution(), lastMessageId);

      let exchange: TraceExchange | undefined;
      let resolution: Resolution;
      let released = false;
      const slot: Slot = {
        sent: release.sent,
        end: (busy) => {
          if (released) return;
          released = true;
          release({ busy });
        },
      };
      try {
        // Built once the slot is held, so wsu:Created is fresh however long the limiter made us wait.
        const envelope = this.#envelope(options.username);
        const request = buildRequest(interaction, query, envelope);
        lastMessageId = request.messageId;
        const sentAt = this.#clock();
        const result = await this.#exchange(request, envelope.payloadId, query, signal, slot);
        resolution = result.resolution;
        exchange = {
          interaction,
          messageId: request.messageId,
          // Both ids, so an answer refused as another request's can be traced at the provider.
          ...(result.responseMessageId === undefined ? {} : { responseMessageId: result.responseMessageId }),
          ...(result.relatesTo === undefined ? {} : { relatesTo: result.relatesTo }),
          attempt,
          startedAt: sentAt.toISOString(),
          durationMs: this.#clock().getTime() - sentAt.getTime(),
          ...(resolution.responseCode === undefined ? {} : { responseCode: resolution.responseCode }),
          status: resolution.status,
          reason: resolution.reason,
        };
      } finally {
        // Released even when a programmer error escapes, so a global slot is never leaked.
        slot.end(false);
      }
      exchanges.push(exchange);

      if (!resolution.retryable || attempt >= attempts) return finish(resolution, lastMessageId);
      try {
        await this.#sleep(backoffDelay(attempt, baseDelayMs, maxDelayMs, this.#random), signal);
      } catch (err) {
        if (signal?.aborted) return finish(abortedResolution(), lastMessageId);
        throw err;
      }
    }
  }

  /** Closes the transport's pooled connections. */
  close(): void {
    this.#options.transport.close?.();
  }

  /**
   * One send and its reading; every SMSP or transport failure becomes a Resolution.
   *
   * The slot goes back as soon as the answer has been read, before it is parsed: the provider is
   * done with the request, and a waiting request can go out. Parsing then waits one turn of the
   * event loop, so the next request is written, and other answers already read are handed back
   * too, before this one's parse (a quarter of a request's CPU). Parsing while holding the slot
   * left every slot idle for its own parse, and for the parses queued ahead of it, once per request.
   */
  async #exchange(request: SmspRequest, payloadId: string, query: PatientQuery, signal: AbortSignal | undefined, slot: Slot): Promise<ExchangeResult> {
    let response: SmspHttpResponse;
    try {
      response = await this.#options.transport.send(request, signal, slot.sent);
    } catch (err) {
      if (!(err instanceof SmspTransportError)) throw err;
      slot.end(err.reason === 'provider_busy');
      return { resolution: outcomeForTransportError(err) };
    }
    slot.end(false);
    await nextTurnOfEventLoop();
    let parsed: ParsedResponse;
    try {
      parsed = parseResponse(response.body);
    } catch (err) {
      if (err instanceof SmspResponseFormatError) return { resolution: outcomeForTransportError(err) };
      throw err;
    }
    const responseMessageId = parsed.messageId;
    // Keyed on wsa:MessageID only: NHS Digital sends a new UUID per answer (SPEC §2.3), while the TKW
    // templates repeat a fixed DE trackingid and HL7 id in every answer, so those would flag honest
    // test providers. Compared upper case, as the ids are UUIDs (SPEC §2.1).
    // A fault is an error whatever its id, so only payload answers are remembered.
    const replayed = parsed.kind === 'response' && responseMessageId !== undefined && this.#answerIds.remember(responseMessageId.toUpperCase());
    const resolution = outcomeForResponse(request.interaction, query, parsed, {
      request: { messageId: request.messageId, payloadId },
      httpStatus: response.status,
      replayed,
    });
    const relatesTo = parsed.relatesTo?.join(' ');
    return {
      resolution,
      ...(responseMessageId === undefined ? {} : { responseMessageId }),
      ...(relatesTo === undefined ? {} : { relatesTo }),
    };
  }

  /** The limiter's release, a no-op without a limiter, or undefined when the caller aborted while waiting. */
  async #acquire(signal: AbortSignal | undefined): Promise<ReleaseRequest | undefined> {
    const { limiter } = this.#options;
    if (!limiter) return () => {};
    try {
      return await limiter.acquire(signal);
    } catch (err) {
      if (signal?.aborted) return undefined;
      throw err;
    }
  }

  #envelope(username: string | undefined): EnvelopeContext {
    const { url, fromAddress, auditIdentity } = this.#options;
    return {
      ...this.#ids(),
      created: this.#clock(),
      expiresInSeconds: EXPIRES_IN_SECONDS,
      to: url,
      from: fromAddress,
      username: username ?? this.#options.username,
      auditIdentity: { type: AUDIT_IDENTITY_TYPE[auditIdentity.type], uri: auditIdentity.uri },
    };
  }
}

/**
 * Builds the client for the configured provider: loads the TLS material named in the settings
 * (unless given) and opens a keep-alive mutual-TLS transport sized to the global in-flight limit.
 */
export async function createSmspClient(
  settings: SmspSettings,
  overrides: { limiter?: SmspLimiter; tls?: TlsMaterial } = {},
): Promise<SmspClient> {
  if (!settings.url) throw new ConfigError(['SMSP_URL: required to create an SMSP client']);
  const tls = overrides.tls ?? (await loadTlsMaterial(settings.tls));
  const transport = createHttpsTransport({
    url: settings.url,
    tls,
    timeoutMs: settings.timeoutMs,
    maxSockets: settings.maxInFlight,
  });
  return new SmspClient({
    transport,
    url: settings.url,
    fromAddress: settings.fromAddress,
    username: settings.username,
    auditIdentity: settings.auditIdentity,
    retry: settings.retry,
    limiter: overrides.limiter,
  });
}
