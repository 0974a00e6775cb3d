import type { PdsPatient } from '../domain/demographics.js';
import type { TraceExchange } from '../domain/row-result.js';
import type { TraceStatus } from '../domain/outcome.js';
import type { ReasonCode } from '../domain/reasons.js';
import type { Interaction } from './interactions.js';

/**
 * Everything the ITK envelope and SOAP header need besides the query itself. Ids and clock are
 * passed in (never generated inside the builder) so builds are deterministic and testable.
 */
export interface EnvelopeContext {
  /** wsa:MessageID: an upper-case UUID, unique per message. */
  messageId: string;
  /** DistributionEnvelope header/@trackingid: an upper-case UUID. */
  trackingId: string;
  /** HL7 payload id/@root: an upper-case UUID; the ITK payload id is `uuid_` + this. */
  payloadId: string;
  /** wsu:Timestamp/@wsu:Id: an upper-case UUID. */
  timestampId: string;
  /** wsu:Created; Expires is Created + `expiresInSeconds` (NHS: typically 10 minutes). */
  created: Date;
  expiresInSeconds: number;
  /** wsa:To: the endpoint URL called. */
  to: string;
  /** wsa:From/wsa:Address: this system's address. */
  from: string;
  /** wsse:Username: the accountable user or system name. */
  username: string;
  /** itk:auditIdentity/itk:id (type OID + uri), e.g. the ASID under 1.2.826.0.1285.0.2.0.107. */
  auditIdentity: { type: string; uri: string };
  /** Optional itk:senderAddress/@uri (`urn:nhs-uk:addressing:...`). */
  senderAddress?: string;
  /** Root OID used for Person.LocalIdentifier. */
  localIdentifierRoot?: string;
}

/** A request ready for the wire. */
export interface SmspRequest {
  interaction: Interaction;
  soapAction: string;
  messageId: string;
  body: string;
}

/** What the response parser makes of a body: a response payload or a SOAP fault. */
export type ParsedResponse = ParsedPayloadResponse | ParsedFault;

export interface ParsedPayloadResponse {
  kind: 'response';
  /** value/@code, e.g. SMSP-0000 or DEMOG-0001. */
  responseCode: string;
  /** The HL7 payload root element's local name, e.g. getNHSNumberResponse-v1-0. */
  payloadRoot: string;
  /** wsa:Action / DE service of the response, when present. */
  service?: string;
  /** wsa:MessageID of the response, when present. */
  messageId?: string;
  trackingId?: string;
  /** verifyNHSNumber only: validIdentifier/value/@value. */
  verified?: boolean;
  /** wsa:RelatesTo values in the SOAP header; NHS Digital sends none (SPEC §2.3). */
  relatesTo?: string[];
  /** HL7 acknowledgement/messageRef/id/@root values: the message the provider says it answers. */
  acknowledgedIds?: string[];
  /** The (first) NHS number in subject/patient/id, when returned. */
  nhsNumber?: string;
  /** Further, different NHS numbers in the same answer: there should never be any (ARCHITECTURE property 8). */
  otherNhsNumbers?: string[];
  /** The (first) local identifier echoed back in subject/patient/id, when returned. */
  localId?: string;
  /** Further, different local identifiers in the same answer. */
  otherLocalIds?: string[];
  /** getPatientDetails* only: the person's details. */
  patient?: PdsPatient;
}

export interface ParsedFault {
  kind: 'fault';
  /** wsa:MessageID and wsa:RelatesTo of the fault's SOAP header, when present (kept for the audit). */
  messageId?: string;
  relatesTo?: string[];
  /** soap:Fault/faultcode without its prefix: Client, Server, VersionMismatch, MustUnderstand. */
  faultCode: string;
  faultString: string;
  /** ToolkitErrorInfo/ErrorCode, e.g. 2100. */
  itkErrorCode?: string;
  itkErrorText?: string;
  itkDiagnosticText?: string;
  errorId?: string;
}

/** The result of one SMSP call as the rest of pds-trace sees it. */
export interface SmspOutcome {
  interaction: Interaction;
  status: TraceStatus;
  reason: ReasonCode;
  /** Whether a later attempt could change the outcome (only ever true for `error`). */
  retryable: boolean;
  /** SMSP/DEMOG code, `ITK-<code>` for a fault, `HTTP-<status>` for an HTTP failure; absent when nothing came back. */
  responseCode?: string;
  /** wsa:MessageID of the (last) request sent; absent when no request was sent. */
  messageId?: string;
  /** The NHS number to use: as PDS returned it (the replacement for `superseded`). */
  nhsNumber?: string;
  /** For `superseded`: the number that was supplied and replaced. */
  supersededNhsNumber?: string;
  patient?: PdsPatient;
  /** Every request sent for this outcome, retries included, in order (empty when rejected locally). */
  exchanges: TraceExchange[];
  /** Wall time from first send to final answer, retries and back-off included. */
  durationMs: number;
  /** A safe, PII-free detail for operators (e.g. the fault string or the local rule broken). */
  detail?: string;
}
