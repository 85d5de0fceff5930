import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { NumberingErrorCode } from './errors.ts';
import { NumberingError } from './errors.ts';
import type { NumberingIndex } from './numbering-index.ts';
import type { RewriteVariables } from './rewrite.ts';
import { applyRewrite, compileRuleSet } from './rewrite.ts';
import type { RewriteDirection, RewriteField, RewriteRuleData } from './types.ts';
import { REWRITE_DIRECTIONS, REWRITE_FIELDS } from './types.ts';

const STATUS: Record<NumberingErrorCode, number> = {
  'invalid-number': 400,
  'invalid-regex': 400,
  'unsafe-regex': 400,
  'invalid-replacement': 400,
  'invalid-rule': 400,
  'invalid-header-rule': 400,
  'unknown-domain': 404,
  'not-found': 404,
  blocked: 403,
  'no-route': 404,
};

const TITLES: Record<NumberingErrorCode, string> = {
  'invalid-number': 'Invalid number',
  'invalid-regex': 'Invalid regular expression',
  'unsafe-regex': 'Unsafe regular expression',
  'invalid-replacement': 'Invalid replacement',
  'invalid-rule': 'Invalid rule',
  'invalid-header-rule': 'Invalid header rule',
  'unknown-domain': 'Unknown domain',
  'not-found': 'Not found',
  blocked: 'Call barred',
  'no-route': 'No route',
};

/** Largest request body accepted (rule-set tests): a rule set is small. */
const MAX_BODY = 64 * 1024;

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    detail: string,
  ) {
    super(detail);
  }
}

/**
 * The lookup API as a node:http request handler:
 * - `GET /v1/lookup?number=` number -> SIP URI;
 * - `GET /v1/present?uri=` SIP URI -> presented caller number (CLIR -> anonymous);
 * - `GET /v1/lcr?callee=&caller=&subscriber=` gateways in failover order;
 * - `GET /v1/normalise?domain=&number=` what a number dialled in a domain is;
 * - `POST /v1/rewrite/test` runs rules (given, or a stored rule set) on a value and returns the trace;
 * - `GET /health`.
 * Errors are RFC 9457 problem+json.
 */
export function createLookupHandler(index: NumberingIndex, logger?: Logger) {
  return (request: IncomingMessage, response: ServerResponse): void => {
    handle(index, request)
      .then((body) => send(response, 200, 'application/json', body))
      .catch((error: unknown) => {
        const problem = toProblem(error, logger);
        send(response, problem.status, 'application/problem+json', {
          type: problem.type,
          title: problem.title,
          status: problem.status,
          detail: problem.detail,
          instance: request.url?.split('?')[0],
        });
      });
  };
}

async function handle(index: NumberingIndex, request: IncomingMessage): Promise<unknown> {
  let url: URL;
  try {
    url = new URL(request.url ?? '/', 'http://numbering.invalid');
  } catch {
    throw new HttpProblem(400, 'Bad request', 'the request target is not a valid URL');
  }
  const route = `${request.method} ${url.pathname}`;
  const query = url.searchParams;
  switch (route) {
    case 'GET /health':
      return { status: 'ok', version: index.version, ...index.size };
    case 'GET /v1/lookup': {
      const number = required(query, 'number');
      const domain = query.get('domain');
      let e164 = number;
      if (domain) {
        const normalised = index.normalise(domain, number);
        if (normalised.kind !== 'e164') {
          throw new NumberingError(
            'not-found',
            `${number} is a ${normalised.kind} number, not a subscriber number`,
          );
        }
        e164 = normalised.e164;
      } else if (!/^\+?\d{1,15}$/.test(number.replace(/[\s\-.()/]/g, ''))) {
        throw new NumberingError(
          'invalid-number',
          'number must be E.164 (digits, optional +) unless a domain is given',
        );
      }
      const mapping = index.lookupNumber(e164.replace(/[\s\-.()/]/g, ''));
      if (!mapping) throw new NumberingError('not-found', `no subscriber has ${e164}`);
      return mapping;
    }
    case 'GET /v1/present': {
      const uri = required(query, 'uri');
      const presentation = index.presentCaller(uri);
      if (!presentation) throw new NumberingError('not-found', 'no subscriber has this URI');
      return presentation;
    }
    case 'GET /v1/lcr':
      return index.routeCall({
        callee: required(query, 'callee'),
        caller: query.get('caller') || null,
        subscriberId: query.get('subscriber') || null,
      });
    case 'GET /v1/normalise':
      return {
        input: required(query, 'number'),
        ...index.normalise(required(query, 'domain'), required(query, 'number')),
      };
    case 'POST /v1/rewrite/test':
      return rewriteTest(index, await readJson(request));
    default:
      if (
        ['/health', '/v1/lookup', '/v1/present', '/v1/lcr', '/v1/normalise', '/v1/rewrite/test'].includes(
          url.pathname,
        )
      ) {
        throw new HttpProblem(
          405,
          'Method not allowed',
          `${request.method} is not supported on ${url.pathname}`,
        );
      }
      throw new HttpProblem(404, 'Not found', `no such resource ${url.pathname}`);
  }
}

/**
 * Body: `{ direction, field, value, rules?: RewriteRuleData[], ruleSetId?, subscriberId?, variables? }`.
 * With `rules`, tests rules before they are saved (and reports bad ones as provisioning would).
 */
function rewriteTest(index: NumberingIndex, body: unknown) {
  if (typeof body !== 'object' || body === null)
    throw new HttpProblem(400, 'Bad request', 'body must be a JSON object');
  const input = body as Record<string, unknown>;
  const direction = input.direction as RewriteDirection;
  const field = input.field as RewriteField;
  if (!REWRITE_DIRECTIONS.includes(direction)) {
    throw new NumberingError('invalid-rule', `direction must be one of ${REWRITE_DIRECTIONS.join(', ')}`);
  }
  if (!REWRITE_FIELDS.includes(field))
    throw new NumberingError('invalid-rule', `field must be one of ${REWRITE_FIELDS.join(', ')}`);
  if (typeof input.value !== 'string' || input.value.length > 256) {
    throw new HttpProblem(400, 'Bad request', 'value must be a string of at most 256 characters');
  }
  const subscriberId = typeof input.subscriberId === 'string' ? input.subscriberId : null;
  const variables: RewriteVariables = {
    ...(subscriberId ? index.subscriberVariables(subscriberId) : {}),
    ...stringRecord(input.variables),
  };
  let set = null;
  if (Array.isArray(input.rules)) {
    const rules = (input.rules as Partial<RewriteRuleData>[]).map((rule, position) => ({
      id: String(rule.id ?? position + 1),
      direction: rule.direction ?? direction,
      field: rule.field ?? field,
      matchPattern: String(rule.matchPattern ?? ''),
      replacement: String(rule.replacement ?? ''),
      priority: Number(rule.priority ?? position),
      enabled: rule.enabled !== false,
    }));
    set = compileRuleSet({ id: 'test', name: 'test', rules });
  } else if (typeof input.ruleSetId === 'string') {
    set = index.ruleSet(input.ruleSetId);
    if (!set) throw new NumberingError('not-found', `no rule set ${input.ruleSetId}`);
  } else if (subscriberId) {
    set = index.subscriberRuleSet(subscriberId);
  } else {
    throw new HttpProblem(400, 'Bad request', 'give rules, ruleSetId or subscriberId');
  }
  return applyRewrite(set, direction, field, input.value, variables);
}

function stringRecord(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null) return {};
  return Object.fromEntries(
    Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}

function required(query: URLSearchParams, name: string): string {
  const value = query.get(name);
  if (!value) throw new HttpProblem(400, 'Bad request', `query parameter "${name}" is required`);
  if (value.length > 256) throw new HttpProblem(400, 'Bad request', `query parameter "${name}" is too long`);
  return value;
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Read to the end even past the limit (discarding), so the client gets the 413 instead of a reset;
  // the server's request timeout bounds how long that can take.
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size <= MAX_BODY) chunks.push(chunk as Buffer);
  }
  if (size > MAX_BODY)
    throw new HttpProblem(413, 'Payload too large', `body is larger than ${MAX_BODY} bytes`);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpProblem(400, 'Bad request', 'body is not valid JSON');
  }
}

function toProblem(error: unknown, logger?: Logger) {
  if (error instanceof NumberingError) {
    return {
      type: `/problems/${error.code}`,
      title: TITLES[error.code],
      status: STATUS[error.code],
      detail: error.message,
    };
  }
  if (error instanceof HttpProblem) {
    return { type: 'about:blank', title: error.title, status: error.status, detail: error.message };
  }
  logger?.error({ err: error }, 'numbering request failed');
  return {
    type: 'about:blank',
    title: 'Internal error',
    status: 500,
    detail: 'the lookup failed; see the service log',
  };
}

function send(response: ServerResponse, status: number, contentType: string, body: unknown): void {
  if (response.headersSent) return;
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
