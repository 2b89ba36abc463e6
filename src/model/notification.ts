/** What to POST for one message to one target, kept in the outbox; the target's URL is added at send time. */
export interface OutgoingRequest {
  /** Appended to the target URL's path (Alertmanager's API). */
  path?: string;
  /** Added to the target URL's query (Google Chat's messageReplyOption). */
  query?: Record<string, string>;
  body: unknown;
}
