import { INTERACTION_SPECS, NS, OID } from '../smsp/interactions.js';
import type { ItkFaultCode } from '../smsp/response-codes.js';
import { checkPayloadStructure } from './payload-structure.js';
import type { SmspRequestView } from './request-reader.js';

/**
 * The protocol rules the simulator enforces, in the spirit of the NHS Toolkit Workbench (TKW) checks
 * quoted in SPEC §2–§4 ([TKW-F] subGeneric.conf). Each rule has a stable id that appears in the
 * simulator's log, metrics and answer, so a user learns exactly what their client got wrong.
 *
 * How a violation is answered (SPEC §11 open question 3: no real NHS fault sample is public, so this
 * is our reading, kept to one line per rule below):
 * - problems with the SOAP / WS-Addressing / WS-Security headers or the ITK DistributionEnvelope,
 *   i.e. anything the ITK transport layer checks before a PDS query exists, get an ITK SOAP fault
 *   (HTTP 500, soap:Client, ITK 1000 "the message structure or content is unrecognised or
 *   incorrect"; ITK 3000 "access denied" when the caller cannot be identified for audit);
 * - problems with the HL7 payload, once the request has been routed to an interaction, get that
 *   interaction's response payload with SMSP-0001 "Input message validation error" (HTTP 200), the
 *   code [RC] defines for invalid input.
 * When several rules are broken every one is reported; the first in table order decides the answer.
 */

export type RuleAnswer =
  | { kind: 'itk-fault'; faultCode: 'Client' | 'VersionMismatch'; itkCode: ItkFaultCode }
  | { kind: 'response-code'; responseCode: 'SMSP-0001' };

export interface ProtocolRule {
  /** Stable id, as logged and counted. */
  id: string;
  /** What the rule checks, for people (help text, docs, fault diagnostics). */
  checks: string;
  answer: RuleAnswer;
}

/** Everything a check needs besides the request: the clock, HTTP facts, state across requests. */
export interface RuleContext {
  now: Date;
  /** The HTTP Content-Type header as sent. */
  contentType?: string;
  /** MessageIDs already received, for MESSAGE-ID-REPLAY; omitted, that rule is not checked. */
  recentMessageIds?: RecentMessageIds;
}

export interface Violation {
  rule: RuleId;
  /** What was wrong, naming fields and constraints, never their values. */
  detail: string;
}

/** WS-Security timestamp policy (SPEC §2.1: NHS "typically ... a 10 minute valid period"). */
export const TIMESTAMP_POLICY = { maxLifetimeSeconds: 600, clockSkewSeconds: 60 } as const;

const FAULT_1000: RuleAnswer = { kind: 'itk-fault', faultCode: 'Client', itkCode: '1000' };
const FAULT_3000: RuleAnswer = { kind: 'itk-fault', faultCode: 'Client', itkCode: '3000' };
const SMSP_0001: RuleAnswer = { kind: 'response-code', responseCode: 'SMSP-0001' };

const UUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;
const UPPER_UUID = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;
/** xs:ID / xs:IDREF lexical space (NCName), as far as ASCII ids go. */
const NCNAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
/** TKW's timestamp regex: yyyy-mm-ddThh:mm:ss, optional fraction, then Z or ±hh:mm (SPEC §2.1). */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const OID_PATTERN = /^[0-9]+(\.[0-9]+)*$/;
const PAYLOAD_ID_PREFIX = 'uuid_';

type Check = (request: SmspRequestView, context: RuleContext) => string | undefined;

interface RuleDefinition extends ProtocolRule {
  /** Absent for the rules the request reader enforces (the body cannot be read at all). */
  check?: Check;
}

/** The table, in precedence order. Adding a rule is one entry here. */
const RULES = [
  {
    id: 'XML-WELL-FORMED',
    checks: 'the body is well-formed XML with no DOCTYPE',
    answer: FAULT_1000,
  },
  {
    id: 'SOAP-VERSION',
    checks: 'the envelope is SOAP 1.1 (SMSP, SPEC §1), not SOAP 1.2',
    answer: { kind: 'itk-fault', faultCode: 'VersionMismatch', itkCode: '1000' },
  },
  {
    id: 'SOAP-ENVELOPE',
    checks: 'the root element is a SOAP 1.1 Envelope with a Body',
    answer: FAULT_1000,
  },
  {
    id: 'HTTP-CONTENT-TYPE',
    checks: 'the HTTP Content-Type is text/xml, as SOAP 1.1 requires (SPEC §1)',
    answer: FAULT_1000,
    check: (_request, { contentType }) => {
      const media = contentType?.split(';')[0]?.trim().toLowerCase();
      return media === 'text/xml' ? undefined : 'Content-Type must be text/xml';
    },
  },
  {
    id: 'KNOWN-SERVICE',
    checks: 'SOAPAction / wsa:Action / DE service name one of the five SMSP PDS services (SPEC §1)',
    answer: FAULT_1000,
    check: (request) => (request.interaction === undefined ? 'no SMSP PDS service is named' : undefined),
  },
  {
    id: 'ACTION-MATCHES-SERVICE',
    checks: 'wsa:Action equals the DE header service, and SOAPAction (when sent) equals wsa:Action (TKW)',
    answer: FAULT_1000,
    check: (request) => {
      const action = request.header.action;
      if (!action) return 'wsa:Action is missing';
      if (request.envelope !== undefined && request.envelope.service !== action) return 'wsa:Action differs from the DistributionEnvelope service';
      if (request.soapAction && request.soapAction !== action) return 'SOAPAction differs from wsa:Action';
      return undefined;
    },
  },
  {
    id: 'WS-ADR-01',
    checks: 'wsa:MessageID is an upper-case UUID without prefix (TKW WS-ADR-01)',
    answer: FAULT_1000,
    check: ({ header }) => {
      if (!header.messageId) return 'wsa:MessageID is missing';
      return UPPER_UUID.test(header.messageId) ? undefined : 'wsa:MessageID is not an upper-case UUID without prefix';
    },
  },
  {
    id: 'WSA-TO-FROM',
    checks: 'wsa:To and wsa:From/wsa:Address are present (TKW requires From, SPEC §2.1)',
    answer: FAULT_1000,
    check: ({ header }) => {
      if (!header.to) return 'wsa:To is missing';
      return header.from ? undefined : 'wsa:From/wsa:Address is missing';
    },
  },
  {
    id: 'TIMESTAMP-WINDOW',
    checks:
      `wsu:Timestamp has Created and Expires in UTC form; Created is not in the future (beyond ${TIMESTAMP_POLICY.clockSkewSeconds} s ` +
      `of clock skew), Expires is after now, and Expires − Created is at most ${TIMESTAMP_POLICY.maxLifetimeSeconds} s (+ skew) (SPEC §2.1)`,
    answer: FAULT_1000,
    check: ({ header }, { now }) => checkTimestamp(header.timestamp, now.getTime()),
  },
  {
    id: 'DISTRIBUTION-ENVELOPE',
    checks: 'the SOAP Body holds an itk:DistributionEnvelope with a header and payloads (SPEC §3)',
    answer: FAULT_1000,
    check: ({ envelope }) => (envelope === undefined ? 'the SOAP Body holds no itk:DistributionEnvelope' : undefined),
  },
  {
    id: 'MANIFEST-COUNT',
    checks: 'manifest/@count and payloads/@count equal the number of manifest items and payloads: one each (SPEC §3.1, §3.2)',
    answer: FAULT_1000,
    check: ({ envelope }) => {
      if (envelope === undefined) return undefined;
      const { manifest, payloads } = envelope;
      if (manifest.count !== String(manifest.items.length)) return 'manifest/@count differs from the number of manifestitem elements';
      if (payloads.count !== String(payloads.ids.length)) return 'payloads/@count differs from the number of payload elements';
      if (manifest.items.length !== 1 || payloads.ids.length !== 1) return 'an SMSP request carries exactly one manifest item and one payload';
      return undefined;
    },
  },
  {
    id: 'MANIFEST-PAYLOAD-IDS',
    checks: 'each manifestitem/@id names a payload/@id and each payload is in the manifest; ids are xs:ID (`uuid_` + UUID) (SPEC §3.1, §3.2)',
    answer: FAULT_1000,
    check: ({ envelope }) => {
      if (envelope === undefined) return undefined;
      const manifestIds = envelope.manifest.items.map((item) => item.id ?? '');
      const payloadIds = envelope.payloads.ids.map((id) => id ?? '');
      if ([...manifestIds, ...payloadIds].some((id) => !NCNAME.test(id))) return 'a manifestitem/@id or payload/@id is missing or not an xs:ID';
      if (manifestIds.some((id) => !payloadIds.includes(id))) return 'a manifestitem/@id names no payload';
      if (payloadIds.some((id) => !manifestIds.includes(id))) return 'a payload/@id is not in the manifest';
      return undefined;
    },
  },
  {
    id: 'MANIFEST-PROFILE',
    checks: "manifestitem/@mimetype is text/xml and @profileid is the interaction's request profile (SPEC §3.1: \"Profileid must be provided\")",
    answer: FAULT_1000,
    check: ({ envelope, interaction }) => {
      if (envelope === undefined || interaction === undefined) return undefined;
      const profile = INTERACTION_SPECS[interaction].requestProfileId;
      if (envelope.manifest.items.some((item) => item.mimetype !== 'text/xml')) return 'manifestitem/@mimetype must be text/xml';
      if (envelope.manifest.items.some((item) => item.profileid !== profile)) return `manifestitem/@profileid must be ${profile}`;
      return undefined;
    },
  },
  {
    id: 'UPPERCASE-UUIDS',
    checks: 'Timestamp Id, DE trackingid and the payload id (after `uuid_`) are upper-case UUIDs (DE schema itk:uuid, SPEC §3.1)',
    answer: FAULT_1000,
    check: ({ header, envelope }) => {
      if (envelope === undefined) return undefined;
      // A missing Timestamp is TIMESTAMP-WINDOW's; its Id is checked when the Timestamp is there.
      const named: Array<[string, string | undefined]> = [
        ...(header.timestamp === undefined ? [] : [['wsu:Timestamp/@wsu:Id', header.timestamp.id] as [string, string | undefined]]),
        ['itk:header/@trackingid', envelope.trackingId],
        ...envelope.payloads.ids.map((id): [string, string | undefined] => ['itk:payload/@id', withoutPayloadPrefix(id)]),
      ];
      const bad = named.filter(([, value]) => !UPPER_UUID.test(value ?? '')).map(([name]) => name);
      return bad.length === 0 ? undefined : `${bad.join(', ')} must be upper-case UUIDs`;
    },
  },
  {
    id: 'UNIQUE-IDS',
    checks: 'MessageID, Timestamp Id, trackingid and payload id are all different (TKW)',
    answer: FAULT_1000,
    check: ({ header, envelope }) => {
      const ids = [header.messageId, header.timestamp?.id, envelope?.trackingId, ...(envelope?.payloads.ids ?? []).map(withoutPayloadPrefix)]
        .filter((id): id is string => id !== undefined && id !== '')
        .map((id) => id.toUpperCase());
      return new Set(ids).size === ids.length ? undefined : 'MessageID, Timestamp Id, trackingid and payload id must be distinct';
    },
  },
  {
    id: 'MESSAGE-ID-REPLAY',
    checks: 'wsa:MessageID has not been seen before: every message, retries included, has a new MessageID (SPEC §2.1)',
    answer: FAULT_1000,
    check: ({ header }, { recentMessageIds }) => {
      if (recentMessageIds === undefined || !header.messageId || !UUID.test(header.messageId)) return undefined;
      return recentMessageIds.remember(header.messageId) ? undefined : 'wsa:MessageID was already used by an earlier request';
    },
  },
  {
    id: 'USERNAME-PRESENT',
    checks: 'wsse:Security/wsse:UsernameToken/wsse:Username names the accountable user (SPEC §2.1)',
    answer: FAULT_3000,
    check: ({ header }) => (header.username ? undefined : 'wsse:Username is missing or empty'),
  },
  {
    id: 'AUDIT-IDENTITY-PRESENT',
    checks: 'itk:auditIdentity holds 1–4 itk:id with a uri and, when given, an OID type (MSCA-AUD-04, SPEC §3.1)',
    answer: FAULT_3000,
    check: ({ envelope }) => {
      if (envelope === undefined) return undefined;
      const ids = envelope.auditIdentity;
      if (ids.length === 0 || ids.length > 4) return 'itk:auditIdentity must hold one to four itk:id';
      if (ids.some((id) => !id.uri)) return 'itk:auditIdentity/itk:id/@uri is missing';
      if (ids.some((id) => id.type !== undefined && !OID_PATTERN.test(id.type))) return 'itk:auditIdentity/itk:id/@type is not an OID';
      return undefined;
    },
  },
  {
    id: 'PAYLOAD-ROOT-MATCHES-SERVICE',
    checks: "the itk:payload carries the interaction's HL7 V3 request element in urn:hl7-org:v3 (SPEC §4.1)",
    answer: SMSP_0001,
    check: ({ interaction, envelope, payload }) => {
      if (interaction === undefined || envelope === undefined) return undefined;
      const root = INTERACTION_SPECS[interaction].requestRoot;
      if (payload === undefined) return 'the itk:payload carries no HL7 element';
      return payload.root === root && payload.namespace === NS.hl7 ? undefined : `the payload element must be ${root} in ${NS.hl7}`;
    },
  },
  {
    id: 'PAYLOAD-CODE',
    checks: `the payload code/@code is the interaction's request code with codeSystem ${OID.messageCodeSystem} (SPEC §4.1)`,
    answer: SMSP_0001,
    check: (request) => {
      if (!payloadMatches(request)) return undefined;
      const expected = INTERACTION_SPECS[request.interaction!].requestCode;
      if (request.payload!.code !== expected) return `code/@code must be ${expected}`;
      return request.payload!.codeSystem === OID.messageCodeSystem ? undefined : `code/@codeSystem must be ${OID.messageCodeSystem}`;
    },
  },
  {
    id: 'SCHEMA-VALID',
    checks:
      "the payload follows its schema's structure: required Person.* parameters in order, fixed values and semanticsText, " +
      'one given name, date pattern, Sex code set, NHS number root (QUPA_MT000001–5GB01, SPEC §4)',
    answer: SMSP_0001,
    check: (request) => {
      if (!payloadMatches(request)) return undefined;
      const problems = checkPayloadStructure(request.interaction!, request.payload!.element);
      if (problems.length === 0) return undefined;
      const shown = problems.slice(0, 5).join('; ');
      return problems.length > 5 ? `${shown}; and ${problems.length - 5} more` : shown;
    },
  },
] as const satisfies readonly RuleDefinition[];

export type RuleId = (typeof RULES)[number]['id'];

/** The rules by id, for people and for the server's answer. */
export const PROTOCOL_RULES: ReadonlyMap<RuleId, ProtocolRule> = new Map(
  RULES.map((rule) => [rule.id, { id: rule.id, checks: rule.checks, answer: rule.answer }]),
);

export const RULE_IDS: readonly RuleId[] = RULES.map((rule) => rule.id);

/** For people (`GET /status`, docs): every rule id, what it checks and how it is answered. */
export function describeRules(): Array<{ id: RuleId; checks: string; answer: string }> {
  return RULES.map((rule) => ({
    id: rule.id,
    checks: rule.checks,
    answer: rule.answer.kind === 'itk-fault' ? `HTTP 500 SOAP fault, ITK ${rule.answer.itkCode}` : `HTTP 200, ${rule.answer.responseCode}`,
  }));
}

/** Runs every rule over a request that could be read, in table order. */
export function checkRequest(request: SmspRequestView, context: RuleContext): Violation[] {
  const violations: Violation[] = [];
  for (const rule of RULES as readonly RuleDefinition[]) {
    const detail = rule.check?.(request, context);
    if (detail !== undefined) violations.push({ rule: rule.id as RuleId, detail });
  }
  return violations;
}

/** The rule whose answer the client gets: the first broken one in table order. */
export function decidingRule(violations: readonly Violation[]): ProtocolRule | undefined {
  const broken = new Set(violations.map((v) => v.rule));
  const id = RULE_IDS.find((candidate) => broken.has(candidate));
  return id === undefined ? undefined : PROTOCOL_RULES.get(id);
}

function payloadMatches(request: SmspRequestView): boolean {
  const { interaction, payload } = request;
  return interaction !== undefined && payload !== undefined && payload.root === INTERACTION_SPECS[interaction].requestRoot && payload.namespace === NS.hl7;
}

/** The UUID inside an ITK payload id (`uuid_` + UUID by convention, SPEC §3.2). */
function withoutPayloadPrefix(id: string | undefined): string | undefined {
  return id?.startsWith(PAYLOAD_ID_PREFIX) ? id.slice(PAYLOAD_ID_PREFIX.length) : id;
}

function checkTimestamp(timestamp: SmspRequestView['header']['timestamp'], now: number): string | undefined {
  if (timestamp === undefined) return 'wsse:Security/wsu:Timestamp is missing';
  const { created, expires } = timestamp;
  if (!created || !TIMESTAMP.test(created)) return 'wsu:Created is missing or not yyyy-mm-ddThh:mm:ss with Z or an offset';
  if (!expires || !TIMESTAMP.test(expires)) return 'wsu:Expires is missing or not yyyy-mm-ddThh:mm:ss with Z or an offset';
  const createdAt = Date.parse(created);
  const expiresAt = Date.parse(expires);
  if (Number.isNaN(createdAt) || Number.isNaN(expiresAt)) return 'wsu:Created or wsu:Expires is not a real date and time';
  const skew = TIMESTAMP_POLICY.clockSkewSeconds * 1000;
  if (createdAt > now + skew) return 'wsu:Created is in the future (check the client clock)';
  if (expiresAt <= now) return 'wsu:Expires has passed: the message is outside its valid period';
  if (expiresAt <= createdAt) return 'wsu:Expires is not after wsu:Created';
  if (expiresAt - createdAt > TIMESTAMP_POLICY.maxLifetimeSeconds * 1000 + skew) {
    return `wsu:Expires is more than ${TIMESTAMP_POLICY.maxLifetimeSeconds} s after wsu:Created`;
  }
  return undefined;
}

/**
 * MessageIDs seen recently, for MESSAGE-ID-REPLAY. Bounded: the oldest are forgotten first, so a
 * long benchmark cannot grow it without limit (a Set keeps insertion order).
 */
export class RecentMessageIds {
  readonly #seen = new Set<string>();
  constructor(readonly capacity = 100_000) {}

  /** Records `id`; false when it was already there. */
  remember(id: string): boolean {
    const key = id.toUpperCase();
    if (this.#seen.has(key)) return false;
    this.#seen.add(key);
    if (this.#seen.size > this.capacity) {
      const oldest = this.#seen.values().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
    return true;
  }

  clear(): void {
    this.#seen.clear();
  }
}
