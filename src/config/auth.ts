import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import Type, { type Static } from 'typebox';

export const SCOPES = ['ingest', 'read', 'gate', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** What may be read without a token: health is always public; the dashboard and /metrics when listed. */
export const PUBLIC_AREAS = ['dashboard', 'metrics'] as const;
export type PublicArea = (typeof PUBLIC_AREAS)[number];

const TokenEntry = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    /** Hex SHA-256 of the token (`printf %s "$TOKEN" | sha256sum`): the file never needs the token itself. */
    sha256: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{64}$' })),
    /** The token itself, or `env:NAME` to read it from a variable; hashed at load, never kept. */
    token: Type.Optional(Type.String({ minLength: 16 })),
    scopes: Type.Array(Type.Union(SCOPES.map((scope) => Type.Literal(scope))), { minItems: 1 }),
  },
  { additionalProperties: false },
);

export const AuthFile = Type.Object(
  {
    tokens: Type.Optional(Type.Array(TokenEntry)),
    public: Type.Optional(Type.Array(Type.Union(PUBLIC_AREAS.map((area) => Type.Literal(area))))),
  },
  { additionalProperties: false },
);
export type AuthFile = Static<typeof AuthFile>;

export interface TokenDigest {
  name: string;
  digest: Buffer;
  scopes: readonly Scope[];
}

export interface AuthSettings {
  /** Empty means open: allowed only on a loopback address. */
  tokens: TokenDigest[];
  public: readonly PublicArea[];
}

export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** Hashes the configured tokens; `fail(field, message)` names a bad entry. */
export function resolveAuth(
  file: AuthFile,
  env: NodeJS.ProcessEnv,
  fail: (field: string, message: string) => never,
): AuthSettings {
  const tokens = (file.tokens ?? []).map((entry, index): TokenDigest => {
    const field = `auth.tokens.${index}`;
    if ((entry.sha256 === undefined) === (entry.token === undefined)) {
      fail(field, 'give exactly one of sha256 or token');
    }
    let digest: Buffer;
    if (entry.sha256 !== undefined) digest = Buffer.from(entry.sha256, 'hex');
    else {
      const token = entry.token!.startsWith('env:') ? env[entry.token!.slice(4)] : entry.token;
      if (!token) fail(`${field}.token`, `variable ${entry.token!.slice(4)} is not set`);
      digest = tokenDigest(token!);
    }
    return { name: entry.name, digest, scopes: entry.scopes };
  });
  return { tokens, public: file.public ?? [] };
}

/** Whether an address only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const bare = host.replace(/^\[|\]$/g, '');
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1';
}
