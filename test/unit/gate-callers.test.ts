import { describe, expect, it } from 'vitest';
import { evaluationWaitMs, GateCallError, gateRequest } from '../../src/gate/callers.js';

/** The error a mapping raises, to check the field it names. */
function failure(map: () => unknown): GateCallError {
  try {
    map();
  } catch (error) {
    if (error instanceof GateCallError) return error;
    throw error;
  }
  throw new Error('expected a GateCallError');
}

describe('gate caller mapping', () => {
  it('maps our query fields, sha standing in for version and feature the default change type', () => {
    expect(
      gateRequest(
        { service: 'web', environment: 'production', sha: 'abc123', run_url: 'https://ci/1' },
        undefined,
      ),
    ).toEqual({
      service: 'web',
      environment: 'production',
      version: 'abc123',
      changeType: 'feature',
      runUrl: 'https://ci/1',
    });
    expect(gateRequest({ service: 'web', version: 'v2', sha: 'abc' }, null).version).toBe('v2');
  });

  it("maps Flagger's payload: metadata over name and namespace, checksum kept, the token never", () => {
    const bare = gateRequest(
      {},
      { name: 'web', namespace: 'production', phase: 'pre-rollout', checksum: 'c1' },
    );
    expect(bare).toEqual({
      service: 'web',
      environment: 'production',
      changeType: 'feature',
      checksum: 'c1',
    });
    const request = gateRequest(
      {},
      {
        name: 'web-canary',
        namespace: 'prod-ns',
        checksum: 'c2',
        metadata: {
          service: 'checkout',
          environment: 'production',
          sha: 'f00d',
          change_type: 'hotfix',
          run_url: 'https://flagger/1',
          token: 'secret-token-0123456789',
        },
      },
    );
    expect(request).toEqual({
      service: 'checkout',
      environment: 'production',
      version: 'f00d',
      changeType: 'hotfix',
      runUrl: 'https://flagger/1',
      checksum: 'c2',
    });
    expect(JSON.stringify(request)).not.toContain('secret-token');
  });

  it('lets the JSON body win over the query, and Flagger metadata over the query', () => {
    expect(gateRequest({ service: 'a', environment: 'staging' }, { service: 'b' })).toMatchObject({
      service: 'b',
      environment: 'staging',
    });
    expect(gateRequest({ service: 'a' }, { name: 'b', metadata: { service: 'c' } }).service).toBe('c');
  });

  it('names the field that makes no request', () => {
    expect(failure(() => gateRequest({}, undefined))).toMatchObject({ field: 'service' });
    expect(failure(() => gateRequest({}, { namespace: 'production' }))).toMatchObject({ field: 'service' });
    const wrongType = failure(() => gateRequest({ service: 'web', change_type: 'yolo' }, undefined));
    expect(wrongType.field).toBe('change_type');
    expect(wrongType.message).toContain('got "yolo"');
  });

  it("reads Spinnaker's wait: absent or zero is none, up to 6h, anything else names the field", () => {
    expect(evaluationWaitMs(undefined)).toBe(0);
    expect(evaluationWaitMs('0')).toBe(0);
    expect(evaluationWaitMs('0s')).toBe(0);
    expect(evaluationWaitMs('15m')).toBe(900_000);
    expect(evaluationWaitMs('6h')).toBe(21_600_000);
    expect(failure(() => evaluationWaitMs('7h')).field).toBe('wait');
    expect(failure(() => evaluationWaitMs('soon')).field).toBe('wait');
  });
});
