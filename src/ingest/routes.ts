/**
 * Raw paths become route templates so series stay bounded: configured templates first (`/profile/:id`),
 * then id-like segments (numbers, UUIDs, long hex, long mixed tokens) become `:id`. Query strings and
 * fragments never reach a route.
 */
const NUMERIC = /^\d+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX = /^(?=.*\d)[0-9a-f]{8,}$/i;
/** Long tokens mixing letters and digits (base64 ids, hashes). */
const TOKEN = /^(?=.*\d)(?=.*[a-z])[A-Za-z0-9_-]{20,}$/i;

export function isIdSegment(segment: string): boolean {
  return NUMERIC.test(segment) || UUID.test(segment) || HEX.test(segment) || TOKEN.test(segment);
}

interface CompiledTemplate {
  template: string;
  pattern: RegExp;
}

function compile(template: string): CompiledTemplate {
  const body = template
    .split('/')
    .map((segment) => {
      if (segment === '*') return '.*';
      if (segment.startsWith(':') || (segment.startsWith('{') && segment.endsWith('}'))) return '[^/]+';
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { template, pattern: new RegExp(`^${body}/?$`) };
}

export function stripQuery(path: string): string {
  const query = path.indexOf('?');
  const fragment = path.indexOf('#');
  const end = Math.min(query < 0 ? path.length : query, fragment < 0 ? path.length : fragment);
  return end === path.length ? path : path.slice(0, end);
}

/** Automatic normalisation alone: `/users/42/orders/9f86d081` → `/users/:id/orders/:id`. */
export function normalisePath(rawPath: string): string {
  const path = stripQuery(rawPath);
  if (path === '' || path === '/') return '/';
  const segments = path.split('/');
  let changed = false;
  for (let i = 0; i < segments.length; i++) {
    if (isIdSegment(segments[i]!)) {
      segments[i] = ':id';
      changed = true;
    }
  }
  return changed ? segments.join('/') : path;
}

const CACHE_LIMIT = 10_000;

/** Route templates of one service, with a bounded cache of paths already seen. */
export class RouteNormalizer {
  private readonly templates: CompiledTemplate[];
  private readonly cache = new Map<string, string>();

  constructor(templates: readonly string[]) {
    this.templates = [...new Set(templates)].map(compile);
  }

  route(rawPath: string): string {
    const cached = this.cache.get(rawPath);
    if (cached !== undefined) return cached;
    const path = stripQuery(rawPath);
    const route = this.templates.find((t) => t.pattern.test(path))?.template ?? normalisePath(path);
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(rawPath, route);
    return route;
  }
}

/** One normaliser per service, built on first use from that service's templates. */
export class ServiceRoutes {
  private readonly normalizers = new Map<string, RouteNormalizer>();

  constructor(private readonly templatesOf: (service: string) => readonly string[]) {}

  route(service: string, rawPath: string): string {
    let normalizer = this.normalizers.get(service);
    if (!normalizer) {
      normalizer = new RouteNormalizer(this.templatesOf(service));
      this.normalizers.set(service, normalizer);
    }
    return normalizer.route(rawPath);
  }
}
