import { randomUUID } from 'node:crypto';
import type { Interaction } from '../domain/interaction.js';
import { ITK_FAULT_CODES } from '../smsp/response-codes.js';
import type { PdsDirectory } from './directory.js';
import { FAULTS, type FaultKind, type FaultPlan } from './faults.js';
import { checkRequest, decidingRule, type RecentMessageIds, type RuleAnswer, type Violation } from './protocol-rules.js';
import { readRequest, RequestReadError, type SmspRequestView } from './request-reader.js';
import { writeFault, writeResponse, type FaultContent } from './response-writer.js';

/**
 * What the simulator answers to one SMSP request: the protocol rules first (a broken request gets
 * its rule's answer), then a fault if one is due, then the directory's PDS answer. No sockets and no
 * timers here: the server adds latency, metrics and logging around it.
 */

export const XML_CONTENT_TYPE = 'text/xml; charset=UTF-8';

export type EndpointAnswer =
  | { kind: 'http'; status: number; contentType: string; body: string }
  | { kind: 'reset' }
  | { kind: 'hang' };

export interface EndpointResult {
  interaction: Interaction | undefined;
  /** The label metrics and logs use: SMSP-0000, DEMOG-0001, ITK-1000, HTTP-503, RESET, HANG. */
  code: string;
  answer: EndpointAnswer;
  /** Every rule the request broke (empty for a good request). */
  violations: Violation[];
  fault?: FaultKind;
}

export interface SmspEndpointOptions {
  directory: PdsDirectory;
  faults: FaultPlan;
  /** Remembers MessageIDs across requests (MESSAGE-ID-REPLAY). */
  recentMessageIds: RecentMessageIds;
  clock?: () => Date;
  /** Source of response ids (upper-case UUIDs); fixed in tests. */
  newId?: () => string;
}

export interface SmspRequestInput {
  body: string;
  soapAction?: string;
  contentType?: string;
}

export interface SmspEndpoint {
  handle(input: SmspRequestInput): EndpointResult;
}

export function createSmspEndpoint(options: SmspEndpointOptions): SmspEndpoint {
  const clock = options.clock ?? (() => new Date());
  const newId = options.newId ?? (() => randomUUID().toUpperCase());
  const responseIds = () => ({ messageId: newId(), trackingId: newId(), payloadId: newId() });

  function itkFault(content: Omit<FaultContent, 'errorId'>): EndpointAnswer {
    return { kind: 'http', status: 500, contentType: XML_CONTENT_TYPE, body: writeFault({ ...content, errorId: newId() }, newId()) };
  }

  function payloadAnswer(interaction: Interaction, responseCode: string): EndpointAnswer {
    return {
      kind: 'http',
      status: 200,
      contentType: XML_CONTENT_TYPE,
      body: writeResponse({ interaction, responseCode }, responseIds()),
    };
  }

  function ruleAnswer(answer: RuleAnswer, request: SmspRequestView | undefined, violations: Violation[]): { code: string; answer: EndpointAnswer } {
    // Rule ids and what they found go back to the caller: that is the point of the simulator.
    const diagnosticText = violations.map((v) => `${v.rule}: ${v.detail}`).join(' | ');
    if (answer.kind === 'response-code' && request?.interaction !== undefined) {
      return { code: answer.responseCode, answer: payloadAnswer(request.interaction, answer.responseCode) };
    }
    const itk = answer.kind === 'itk-fault' ? answer : { faultCode: 'Client' as const, itkCode: '1000' as const };
    return {
      code: `ITK-${itk.itkCode}`,
      answer: itkFault({ faultCode: itk.faultCode, itkCode: itk.itkCode, errorText: ITK_FAULT_CODES[itk.itkCode].description, diagnosticText }),
    };
  }

  function faultAnswer(kind: FaultKind, interaction: Interaction): { code: string; answer: EndpointAnswer } {
    const effect = FAULTS[kind].effect;
    switch (effect.kind) {
      case 'http-status':
        return { code: `HTTP-${effect.status}`, answer: busy() };
      case 'itk-fault':
        return {
          code: `ITK-${effect.itkCode}`,
          answer: itkFault({
            faultCode: 'Server',
            itkCode: effect.itkCode,
            errorText: ITK_FAULT_CODES[effect.itkCode].description,
            diagnosticText: `simulated fault ${kind}`,
          }),
        };
      case 'response-code':
        return { code: effect.responseCode, answer: payloadAnswer(interaction, effect.responseCode) };
      case 'reset':
        return { code: 'RESET', answer: { kind: 'reset' } };
      case 'hang':
        return { code: 'HANG', answer: { kind: 'hang' } };
    }
  }

  return {
    handle(input) {
      let request: SmspRequestView | undefined;
      let violations: Violation[];
      try {
        request = readRequest(input.body, input.soapAction);
        violations = checkRequest(request, { now: clock(), contentType: input.contentType, recentMessageIds: options.recentMessageIds });
      } catch (err) {
        if (!(err instanceof RequestReadError)) throw err;
        violations = [{ rule: err.rule, detail: err.message }];
      }
      const interaction = request?.interaction;
      const broken = decidingRule(violations);
      if (broken !== undefined) return { interaction, violations, ...ruleAnswer(broken.answer, request, violations) };
      // No rule broken means the request was read and routed to an interaction.
      const routed = request as SmspRequestView & { interaction: Interaction; payload: NonNullable<SmspRequestView['payload']> };

      const fault = options.faults.decide(routed.payload.query);
      if (fault !== undefined) return { interaction, violations, fault, ...faultAnswer(fault, routed.interaction) };

      const found = options.directory.answer(routed.interaction, routed.payload.query);
      const localIdentifier =
        found.localId !== undefined && routed.payload.localIdentifierRoot !== undefined
          ? { root: routed.payload.localIdentifierRoot, extension: found.localId }
          : undefined;
      const body = writeResponse(
        { interaction: routed.interaction, responseCode: found.responseCode, nhsNumber: found.nhsNumber, verified: found.verified, patient: found.patient, localIdentifier },
        responseIds(),
      );
      return { interaction, violations, code: found.responseCode, answer: { kind: 'http', status: 200, contentType: XML_CONTENT_TYPE, body } };
    },
  };
}

/** HTTP 503, the ITK busy tone (SPEC §6.3); also the provider-side in-flight cap's answer. */
export function busy(): EndpointAnswer {
  return { kind: 'http', status: 503, contentType: 'text/plain; charset=utf-8', body: 'SMSP simulator busy: retry later\n' };
}
