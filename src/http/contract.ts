import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import type { TSchema } from 'typebox';
import { Compile, type Validator } from 'typebox/compile';
import { grantAccess } from './auth.js';
import { ErrorBody } from './schemas/common.js';
import { answerDocuments } from './securityHeaders.js';

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const methodsOf = (route: RouteOptions): string[] =>
  Array.isArray(route.method) ? route.method : [route.method];

/**
 * The errors a route answers by what it is, whatever its handler does: 500 any route; auth's 401/403 and the
 * store's 503 (storage_unavailable) any route not public; 429 a rate-limited one; 400 one that reads a
 * query, parameters or a body; 413/415 one that takes a body. Routes declare the rest (404, 409, 423...).
 */
function impliedErrors(route: RouteOptions): number[] {
  const codes = [500];
  if (route.config?.access !== 'public') codes.push(401, 403, 503);
  if (route.config?.rateLimit) codes.push(429);
  const takesBody = methodsOf(route).some((method) => BODY_METHODS.has(method));
  const { body, querystring, params } = route.schema ?? {};
  if (takesBody || body || querystring || params) codes.push(400);
  if (takesBody) codes.push(413, 415);
  return codes;
}

/** A route's answers by status: a schema, or schemas by content type (for the pages and /metrics). */
type Responses = Record<string, TSchema & { content?: Record<string, { schema: TSchema }> }>;

const validators = new WeakMap<object, Validator>();

/** The JSON schema of one declared answer (pages and /metrics have none). */
const jsonSchema = (declared: Responses[string]): TSchema | undefined =>
  declared.content ? declared.content['application/json']?.schema : declared;

/** Compiled once per schema, at registration: compiling costs milliseconds a request must not wait for. */
function validatorOf(schema: TSchema): Validator {
  let validator = validators.get(schema);
  if (validator === undefined) {
    validator = Compile(schema);
    validators.set(schema, validator);
  }
  return validator;
}

/** Why `payload` is not what the route declares for `status`, or undefined when it is. */
export function responseProblem(responses: Responses, status: number, payload: unknown): string | undefined {
  const declared = responses[status] ?? responses[`${Math.floor(status / 100)}xx`] ?? responses.default;
  if (declared === undefined) return `status ${status} is not among the declared ${Object.keys(responses)}`;
  const schema = jsonSchema(declared);
  if (schema === undefined) return `status ${status} is declared without a JSON schema`;
  const validator = validatorOf(schema);
  if (validator.Check(payload)) return undefined;
  return validator
    .Errors(payload)
    .slice(0, 3)
    .map((error) => `${error.instancePath || '(answer)'} ${error.message}`)
    .join('; ');
}

/**
 * A JSON answer that is not what its route declares becomes a 500 naming the mismatch, so every test run
 * keeps the schemas (and the OpenAPI document made from them) true.
 */
async function checkResponse(request: FastifyRequest, reply: FastifyReply, payload: unknown) {
  const responses = request.routeOptions.schema?.response as Responses | undefined;
  // Routes of other packages (the OpenAPI UI's) and the not-found handler declare none.
  if (responses === undefined) return payload;
  const problem = responseProblem(responses, reply.statusCode, payload);
  if (problem === undefined) return payload;
  const message = `${request.method} ${request.routeOptions.url} answered ${reply.statusCode} against its schema: ${problem}`;
  request.log.error({ payload }, message);
  reply.code(500);
  return { error: 'response_contract', message };
}

export interface ContractOptions {
  /** Validate every JSON answer against its route's schema (the test helpers turn it on). */
  checkResponses: boolean;
}

/**
 * The HTTP contract made explicit: every route declares its answers (TypeBox schemas in http/schemas/), the
 * errors any route gives are added by what the route is, and @fastify/swagger makes the OpenAPI document
 * from them, served at /docs with its UI's assets from node_modules. Answers are written with JSON.stringify
 * as before: a serializer compiled from the schema would drop or coerce what a schema forgets.
 * Register after auth and limits (their onRoute hooks set the access and rate limit read here) and before
 * any route.
 */
export default fp<ContractOptions>(
  async (app, options) => {
    app.setSerializerCompiler(() => (data) => JSON.stringify(data));
    app.addHook('onRoute', (route: RouteOptions) => {
      const schema = route.schema ?? {};
      // The UI's own routes are no part of the API and stay out of the document.
      if (schema.hide) return;
      if (schema.response === undefined)
        throw new Error(`route ${methodsOf(route).join('|')} ${route.url} declares no response schema`);
      const implied = Object.fromEntries(impliedErrors(route).map((code) => [code, ErrorBody]));
      const access = route.config?.access;
      // A copy: routes share their response maps.
      const response: Responses = { ...implied, ...(schema.response as Responses) };
      if (options.checkResponses) {
        for (const declared of Object.values(response)) {
          const json = jsonSchema(declared);
          if (json) validatorOf(json);
        }
      }
      route.schema = {
        ...schema,
        response,
        security: access === 'public' ? [] : [{ bearer: [] }],
        description:
          access === 'public' ? 'Public.' : `Needs a token with the \`${access}\` scope (or \`admin\`).`,
      };
    });
    if (options.checkResponses) app.addHook('preSerialization', checkResponse);
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'sloguard',
          description: 'SLOs, error budgets and a deploy gate from load-balancer logs and traces.',
          version: '1',
        },
        components: {
          securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
        },
      },
    });
    await app.register(async (docs) => {
      grantAccess(docs, 'read');
      answerDocuments(docs);
      // Swagger UI sets style attributes from its scripts: its pages alone may use inline styles, never scripts.
      docs.addHook('onSend', async (_request, reply, payload) => {
        const policy = reply.getHeader('content-security-policy');
        if (typeof policy === 'string')
          reply.header(
            'content-security-policy',
            policy.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'"),
          );
        return payload;
      });
      await docs.register(swaggerUi, {
        routePrefix: '/docs',
        // No call to validator.swagger.io: nothing leaves for another origin.
        uiConfig: { validatorUrl: null },
      });
    });
  },
  { name: 'sloguard-contract', dependencies: ['sloguard-auth', 'sloguard-limits'] },
);
