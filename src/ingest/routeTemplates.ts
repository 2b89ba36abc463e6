/**
 * Raw paths become route templates so series stay bounded: configured templates first (`/profile/:id`),
 * then id-like segments (numbers, UUIDs, long hex, long mixed tokens) become `:id`. Query strings and
 * fragments never reach a route.
 */

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}
function isHexLetter(code: number): boolean {
  return (code >= 97 && code <= 102) || (code >= 65 && code <= 70);
}
function isLetter(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90);
}

/**
 * Whether path[start, end) is id-like: all digits; a UUID; 8+ hex characters with a digit; or 20+ of
 * [A-Za-z0-9_-] mixing letters and digits. Scanned by character code: this runs for every logged request
 * whose path is not cached, so it must not allocate or backtrack. A path's UTF-8 bytes (`sloguard import`)
 * classify as its text does: every character an id may hold is ASCII.
 */
export function isIdAt(path: string | Uint8Array, start: number, end: number): boolean {
  const length = end - start;
  if (length === 0) return false;
  let digits = 0;
  let hexLetters = 0;
  let otherLetters = 0;
  let others = 0;
  let uuidShaped = length === 36;
  for (let i = start; i < end; i++) {
    const code = typeof path === 'string' ? path.charCodeAt(i) : path[i]!;
    const offset = i - start;
    const dashSlot = offset === 8 || offset === 13 || offset === 18 || offset === 23;
    if (isDigit(code)) digits += 1;
    else if (isHexLetter(code)) hexLetters += 1;
    else if (isLetter(code)) otherLetters += 1;
    else if (code === 45 || code === 95) others += 1;
    else return false;
    if (uuidShaped && dashSlot !== (code === 45)) uuidShaped = false;
  }
  if (digits === length || (uuidShaped && otherLetters === 0 && others === 4)) return true;
  if (others === 0 && otherLetters === 0 && length >= 8 && digits > 0) return true;
  return length >= 20 && digits > 0 && hexLetters + otherLetters > 0;
}

export function isIdSegment(segment: string): boolean {
  return isIdAt(segment, 0, segment.length);
}

/** One `/`-separated part of a template: a literal, `:name` / `{name}` (one segment), `*` (one or more). */
type TemplatePart = { literal: string } | 'param' | 'rest';

interface CompiledTemplate {
  template: string;
  parts: TemplatePart[];
}

function compile(template: string): CompiledTemplate {
  const parts = template.split('/').map((segment): TemplatePart => {
    if (segment === '*') return 'rest';
    if (segment.startsWith(':') || (segment.startsWith('{') && segment.endsWith('}'))) return 'param';
    return { literal: segment };
  });
  return { template, parts };
}

/**
 * Whether the path's segments fit the template's parts, read as a set of positions in the template advanced
 * one segment at a time: time is segments × parts whatever the template, where `*` compiled to `.*` took
 * minutes on an 8 KB path. `state[j]`: the first j parts match the segments read; after a `*` the same j
 * may take more segments.
 */
function matchesSegments(parts: readonly TemplatePart[], segments: readonly string[]): boolean {
  let state: boolean[] = [true, ...parts.map(() => false)];
  for (const segment of segments) {
    const next = state.map(() => false);
    let any = false;
    for (let j = 0; j <= parts.length; j++) {
      if (!state[j]) continue;
      const part = parts[j];
      if (
        part !== undefined &&
        (part === 'rest' || (part === 'param' ? segment !== '' : part.literal === segment))
      ) {
        next[j + 1] = true;
        any = true;
      }
      if (j > 0 && parts[j - 1] === 'rest') {
        next[j] = true;
        any = true;
      }
    }
    if (!any) return false;
    state = next;
  }
  return state[parts.length] === true;
}

/** `^template/?$` on segments: the path, or the path without one trailing slash. */
function matchesTemplate(template: CompiledTemplate, segments: readonly string[]): boolean {
  if (matchesSegments(template.parts, segments)) return true;
  return (
    segments.length > 1 && segments.at(-1) === '' && matchesSegments(template.parts, segments.slice(0, -1))
  );
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
  let route = '';
  let copied = 0;
  let start = 0;
  while (start <= path.length) {
    let end = path.indexOf('/', start);
    if (end < 0) end = path.length;
    if (isIdAt(path, start, end)) {
      route += `${path.slice(copied, start)}:id`;
      copied = end;
    }
    start = end + 1;
  }
  return copied === 0 ? path : route + path.slice(copied);
}

const CACHE_LIMIT = 10_000;

/**
 * Route templates of one service, with a bounded cache of paths already seen. How many routes a service may
 * have is not decided here, per thread, but by the series caps at commit (cardinality.ts).
 */
export class RouteNormalizer {
  private readonly templates: CompiledTemplate[];
  private readonly cache = new Map<string, string>();

  constructor(templates: readonly string[]) {
    this.templates = [...new Set(templates)].map(compile);
  }

  route(rawPath: string): string {
    const path = stripQuery(rawPath);
    const cached = this.cache.get(path);
    if (cached !== undefined) return cached;
    let route: string | undefined;
    const segments = this.templates.length > 0 ? path.split('/') : [];
    for (const template of this.templates) {
      if (matchesTemplate(template, segments)) {
        route = template.template;
        break;
      }
    }
    route ??= normalisePath(path);
    // Only paths that are their own route: those carrying ids rarely come back, and caching them would
    // churn the cache of those that do.
    if (route === path) {
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(path, route);
    }
    return route;
  }
}

/** Services remembered at once: past it the map starts again, so a flood of service names holds no memory. */
const SERVICES_LIMIT = 10_000;

/** One normaliser per service, built on first use from that service's templates; one shared by those with none. */
export class ServiceRoutes {
  private readonly normalizers = new Map<string, RouteNormalizer>();
  private readonly untemplated = new RouteNormalizer([]);

  constructor(readonly templatesOf: (service: string) => readonly string[]) {}

  /** After a reload: normalisers are built again from the new templates on first use. */
  reset(): void {
    this.normalizers.clear();
  }

  route(service: string, rawPath: string): string {
    let normalizer = this.normalizers.get(service);
    if (!normalizer) {
      const templates = this.templatesOf(service);
      normalizer = templates.length === 0 ? this.untemplated : new RouteNormalizer(templates);
      if (this.normalizers.size >= SERVICES_LIMIT) this.normalizers.clear();
      this.normalizers.set(service, normalizer);
    }
    return normalizer.route(rawPath);
  }
}
