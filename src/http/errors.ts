import type { FastifyError, FastifyInstance } from 'fastify';
import { pointerField } from '../config/schemaErrors.js';
import { PromQlError } from '../sources/promql/client.js';
import { isStorageFault, STORAGE_RETRY_AFTER_SECONDS, StorageUnavailableError } from '../store/faults.js';

/** The one error shape of the API: `{"error": code, "message": what and why, "field": where}`. */
export interface ErrorBody {
  error: string;
  message: string;
  field?: string;
}

/** An error a route raises on purpose, with its status and code. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Fastify's own errors, named in our vocabulary. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_content_length',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_body',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_TYPE: 'invalid_body',
};

function validationBody(error: FastifyError): ErrorBody {
  const first = error.validation?.[0];
  const context = error.validationContext ?? 'request';
  const params = (first?.params ?? {}) as Record<string, unknown>;
  const missing =
    (params.requiredProperties as string[] | undefined)?.[0] ?? (params.missingProperty as string);
  const extra =
    (params.additionalProperties as string[] | undefined)?.[0] ?? (params.additionalProperty as string);
  const path = pointerField(first?.instancePath ?? '');
  const name = missing ?? extra ?? path;
  const field = name ? `${context}.${name}` : context;
  let message = `${field} ${first?.message ?? 'is invalid'}`;
  if (missing) message = `${field} is required`;
  else if (extra) message = `${field} is not a known field`;
  return { error: 'invalid_request', message, field };
}

/** What went wrong with the store, without its path (SQLite's own messages name none). */
const storageFault = (error: Error): string =>
  error instanceof StorageUnavailableError ? 'its database file was deleted or replaced' : error.message;

/** Every error and every unknown route answers in the documented JSON shape; 5xx details stay in the log. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof HttpError) {
      const body: ErrorBody = {
        error: error.code,
        message: error.message,
        ...(error.field && { field: error.field }),
      };
      return reply.code(error.statusCode).headers(error.headers).send(body);
    }
    if (error.validation) return reply.code(400).send(validationBody(error));
    if (isStorageFault(error)) {
      // Disk full, I/O error, database file gone: nothing was written; the same request may succeed later.
      request.log.error({ err: error }, 'storage cannot take writes');
      return reply
        .code(503)
        .header('retry-after', String(STORAGE_RETRY_AFTER_SECONDS))
        .send({
          error: 'storage_unavailable',
          message: `the store cannot take writes now: ${storageFault(error)}`,
        });
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const code = FASTIFY_CODES[error.code] ?? 'bad_request';
      return reply.code(status).send({ error: code, message: error.message });
    }
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).send({ error: 'internal', message: 'internal error; see the service log' });
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` }),
  );
}

/** An answer read from an engine; one that fails is a 503, as the gate is when it cannot decide. */
export async function engineAnswer<T>(read: () => Promise<T> | T): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof PromQlError) throw new HttpError(503, 'source_unavailable', error.message);
    throw error;
  }
}
