import { randomUUID } from 'node:crypto';

/**
 * A UUIDv7 (RFC 9562): the time in milliseconds, then random bits. Audit rows keyed by it land at the end of
 * their index instead of on a random page. Made from `randomUUID()`, whose random bytes come from a pool:
 * the `uuid` package's v7 asks the system for 16 random bytes on every call, 14 µs of a 120 µs gate answer.
 */
export function timeOrderedId(nowMs: number): string {
  const time = Math.max(0, Math.floor(nowMs)).toString(16).padStart(12, '0').slice(-12);
  // randomUUID() is xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx: keep its random bits and variant, set version 7.
  return `${time.slice(0, 8)}-${time.slice(8)}-7${randomUUID().slice(15)}`;
}
