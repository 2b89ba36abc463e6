import { randomUUID } from 'node:crypto';
import type { GateOverride } from '../store/gateOverrides.js';
import type { DeployGate } from './gate.js';

/** Break-glass is for an incident, not a way of life: no override lasts longer than this. */
export const MAX_OVERRIDE_MS = 4 * 3_600_000;

export interface OverrideRequest {
  service: string;
  environment: string;
  sha?: string;
  reason: string;
  ticket: string;
  expiresAtMs: number;
}

/** Why an override request cannot be granted, and which field to fix. */
export class OverrideRejected extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'OverrideRejected';
  }
}

/**
 * Where overrides are kept: this process's SQLite store (answers at once) or the replicas' PostgreSQL (answers
 * after a round trip).
 */
export interface OverrideRecords {
  create(override: Omit<GateOverride, 'revokedAtMs' | 'revokedBy'>): GateOverride | Promise<GateOverride>;
  get(id: string): GateOverride | undefined | Promise<GateOverride | undefined>;
  list(query: { service?: string; activeAtMs?: number }): GateOverride[] | Promise<GateOverride[]>;
  revoke(id: string, by: string, nowMs: number): boolean | Promise<boolean>;
}

/** Grants, lists and revokes overrides; the gate announces each grant and revocation to its listeners. */
export class GateOverrides {
  constructor(
    private readonly store: OverrideRecords,
    private readonly gate: DeployGate,
    private readonly knownService: (service: string) => boolean,
  ) {}

  async create(request: OverrideRequest, actor: string, nowMs = Date.now()): Promise<GateOverride> {
    if (!this.knownService(request.service)) {
      throw new OverrideRejected('service', `no SLO is defined for service "${request.service}"`);
    }
    if (request.expiresAtMs <= nowMs) throw new OverrideRejected('expires_at', 'the expiry is in the past');
    if (request.expiresAtMs - nowMs > MAX_OVERRIDE_MS) {
      throw new OverrideRejected('expires_at', 'an override may last at most 4h');
    }
    const override = await this.store.create({
      id: randomUUID(),
      service: request.service,
      environment: request.environment,
      sha: request.sha ?? null,
      reason: request.reason,
      ticket: request.ticket,
      actor,
      createdAtMs: nowMs,
      expiresAtMs: request.expiresAtMs,
    });
    this.gate.emit('override-created', override);
    return override;
  }

  async get(id: string): Promise<GateOverride | undefined> {
    return this.store.get(id);
  }

  async list(query: { service?: string; activeAtMs?: number }): Promise<GateOverride[]> {
    return this.store.list(query);
  }

  /** Revokes an override; returns it, or undefined when there is none by that id. */
  async revoke(id: string, actor: string, nowMs = Date.now()): Promise<GateOverride | undefined> {
    const revokedNow = await this.store.revoke(id, actor, nowMs);
    const override = await this.store.get(id);
    if (revokedNow && override) this.gate.emit('override-revoked', override);
    return override;
  }
}
