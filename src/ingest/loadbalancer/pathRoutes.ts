import { isIdAt, isIdSegment, type ServiceRoutes } from '../routeTemplates.js';

/**
 * Routes of paths read from a file's bytes (`sloguard import`), cached by the path's shape: its bytes up to
 * `?` or `#`, with each id-like segment (routeTemplates.ts) standing for any id. The route of a path depends
 * on nothing else, so `/api/orders/15183` and `/api/orders/77` share one entry and most lines are routed
 * without decoding their path (a miss decodes it and asks ServiceRoutes). That holds unless a template has
 * an id-like literal segment (`/v2/12345`): such a service's paths are always decoded.
 */

const SLASH = 47;
const QUERY = 63;
const FRAGMENT = 35;
/** Stands for an id segment in a shape: never a byte of an ASCII path, and shapes are made of ASCII paths only. */
const ID = 0xff;
/** A UUID's characters: the one id shape (routeTemplates.ts isIdAt) that may hold no digit. */
const UUID_LENGTH = 36;
/** Longer paths, and those with non-ASCII bytes, are decoded and routed as text. */
const MAX_SHAPE_BYTES = 512;
/** Shapes remembered per service: past it the cache starts again, so a flood of odd paths holds no memory. */
const SHAPES_LIMIT = 10_000;

interface Shape {
  bytes: Uint8Array;
  route: string;
}

/** One service's shapes by hash (FNV-1a), each list checked byte for byte. */
type ShapeCache = Map<number, Shape[]>;

export class PathRoutes {
  /** null: the service's templates make shapes ambiguous. */
  private readonly byService = new Map<string, ShapeCache | null>();
  private readonly scratch = new Uint8Array(MAX_SHAPE_BYTES);
  private shapeLength = 0;

  constructor(private readonly routes: ServiceRoutes) {}

  /** The route of the path in bytes[start, end), as routes.route(service, decoded path) answers it. */
  route(service: string, bytes: Buffer, start: number, end: number): string {
    const cache = this.cacheOf(service);
    const hash = cache ? this.shapeOf(bytes, start, end) : undefined;
    if (hash === undefined) return this.routes.route(service, bytes.toString('utf8', start, end));
    const candidates = cache!.get(hash);
    if (candidates) for (const shape of candidates) if (this.isShape(shape.bytes)) return shape.route;
    const route = this.routes.route(service, bytes.toString('utf8', start, end));
    if (cache!.size >= SHAPES_LIMIT) cache!.clear();
    const shape = { bytes: this.scratch.slice(0, this.shapeLength), route };
    const list = cache!.get(hash);
    if (list) list.push(shape);
    else cache!.set(hash, [shape]);
    return route;
  }

  private cacheOf(service: string): ShapeCache | null {
    let cache = this.byService.get(service);
    if (cache === undefined) {
      const ambiguous = this.routes
        .templatesOf(service)
        .some((template) => template.split('/').some((segment) => isIdSegment(segment)));
      cache = ambiguous ? null : new Map();
      if (this.byService.size >= SHAPES_LIMIT) this.byService.clear();
      this.byService.set(service, cache);
    }
    return cache;
  }

  /**
   * Writes the path's shape into scratch and answers its hash; undefined for a path routed as text. One pass:
   * a segment is written as it is read, and replaced by ID when it proves id-like (only one with a digit, or
   * UUID-long, can be).
   */
  private shapeOf(bytes: Buffer, start: number, end: number): number | undefined {
    const { scratch } = this;
    let hash = 0x811c9dc5;
    let length = 0;
    let segment = start;
    let segmentHash = hash;
    let segmentLength = 0;
    let digit = false;
    for (let i = start; ; i++) {
      const byte = i < end ? bytes[i]! : SLASH;
      if (byte >= 0x80) return undefined;
      const last = i >= end || byte === QUERY || byte === FRAGMENT;
      if (byte !== SLASH && !last) {
        // Past the bound the writes fall off the array; the segment's end answers undefined.
        scratch[length++] = byte;
        hash = Math.imul(hash ^ byte, 0x01000193);
        if (byte >= 48 && byte <= 57) digit = true;
        continue;
      }
      if (length + 1 > MAX_SHAPE_BYTES) return undefined;
      if ((digit || i - segment === UUID_LENGTH) && isIdAt(bytes, segment, i)) {
        length = segmentLength;
        scratch[length++] = ID;
        hash = Math.imul(segmentHash ^ ID, 0x01000193);
      }
      if (last) break;
      scratch[length++] = SLASH;
      hash = Math.imul(hash ^ SLASH, 0x01000193);
      segment = i + 1;
      segmentHash = hash;
      segmentLength = length;
      digit = false;
    }
    this.shapeLength = length;
    return hash;
  }

  private isShape(shape: Uint8Array): boolean {
    if (shape.length !== this.shapeLength) return false;
    for (let i = 0; i < shape.length; i++) if (shape[i] !== this.scratch[i]) return false;
    return true;
  }
}
