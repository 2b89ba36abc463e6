import { parseDuration } from '../config/duration.js';
import type { GateRequest } from '../model/gate.js';
import { CHANGE_TYPES, type ChangeType } from '../model/gate.js';
import { MAX_EVALUATION_WAIT_MS } from './evaluations.js';

/**
 * How each CI caller asks the gate, mapped to one GateRequest: our own fields (query string or JSON body),
 * Flagger's webhook payload unchanged, Spinnaker's webhook body with a `wait`. Pure: no HTTP, no store.
 */

/** Our fields, as a query string or a JSON body sends them. */
export interface GateFields {
  service?: string;
  environment?: string;
  version?: string;
  sha?: string;
  change_type?: string;
  run_url?: string;
  commit_at?: string;
}

/** Flagger's webhook payload (name, namespace, phase, checksum, metadata). */
export interface FlaggerPayload {
  name?: string;
  namespace?: string;
  phase?: string;
  checksum?: string;
  metadata?: Record<string, string>;
}

export type GateCall = GateFields & FlaggerPayload;

/** A request field that cannot make a GateRequest, named as the caller sent it. */
export class GateCallError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'GateCallError';
  }
}

type Fields = Record<string, string | undefined>;

/**
 * Flagger sends its own payload: the service is `metadata.service`, else the canary's name; the environment
 * `metadata.environment`, else the namespace; other fields may come as metadata too. `metadata.token` is
 * Flagger's way to pass a token and is never stored.
 */
function flaggerFields(body: GateCall): Fields {
  if (body.name === undefined) return {};
  const metadata = body.metadata ?? {};
  return {
    service: metadata.service ?? body.name,
    environment: metadata.environment ?? body.namespace,
    version: metadata.version ?? metadata.sha,
    change_type: metadata.change_type,
    run_url: metadata.run_url,
    commit_at: metadata.commit_at,
  };
}

const defined = (fields: Fields): Fields =>
  Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));

/** Merges query, Flagger payload and JSON body (the body wins) into a GateRequest, naming a wrong field. */
export function gateRequest(query: GateFields, body: GateCall | null | undefined): GateRequest {
  const { metadata: _metadata, ...plain } = body ?? {};
  const fields: Fields = {
    ...defined({ ...query }),
    ...(body ? defined(flaggerFields(body)) : {}),
    ...defined(plain),
  };
  if (!fields.service) throw new GateCallError('service', 'service is required');
  const changeType = fields.change_type ?? 'feature';
  if (!(CHANGE_TYPES as readonly string[]).includes(changeType)) {
    throw new GateCallError(
      'change_type',
      `change_type must be one of ${CHANGE_TYPES.join(', ')}, got "${changeType}"`,
    );
  }
  const request: GateRequest = { service: fields.service, changeType: changeType as ChangeType };
  if (fields.environment) request.environment = fields.environment;
  const version = fields.version ?? fields.sha;
  if (version) request.version = version;
  if (fields.run_url) request.runUrl = fields.run_url;
  if (fields.checksum) request.checksum = fields.checksum;
  if (fields.commit_at) request.commitAtMs = commitTime(fields.commit_at);
  return request;
}

/** Commit times sloguard accepts: from 2000 to 2100, so a lead time is never a typo's millennia. */
export const COMMIT_RANGE_MS = [Date.UTC(2000, 0, 1), Date.UTC(2100, 0, 1)] as const;

/** `commit_at`: RFC 3339 or Unix seconds, as the other times of the API. */
export function commitTime(text: string): number {
  const ms = Math.round(/^\d+(\.\d+)?$/.test(text) ? Number(text) * 1000 : Date.parse(text));
  if (!Number.isFinite(ms) || ms < COMMIT_RANGE_MS[0] || ms >= COMMIT_RANGE_MS[1])
    throw new GateCallError(
      'commit_at',
      `commit_at must be an RFC 3339 time or Unix seconds between 2000 and 2100, got "${text.slice(0, 64)}"`,
    );
  return ms;
}

/** Spinnaker's `wait`: how long an asynchronous evaluation keeps asking (0 when absent), at most 6h. */
export function evaluationWaitMs(wait: string | undefined): number {
  if (wait === undefined || wait === '0' || wait === '0s') return 0;
  const ms = parseDuration(wait);
  if (ms === undefined || ms > MAX_EVALUATION_WAIT_MS)
    throw new GateCallError('wait', `wait must be a duration up to 6h (e.g. 15m), got "${wait}"`);
  return ms;
}
