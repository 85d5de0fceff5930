import { render } from '@testing-library/react';
import { MemoryRouter } from 'react-router';
import { App } from '../src/App.tsx';
import { createApiClient } from '../src/api/client.ts';
import { newQueryClient, Root } from '../src/Root.tsx';

/** What /auth/me answers for an operator signed in with a session and no two-factor duty. */
export const operator = {
  userId: 'u1',
  email: 'ops@example.com',
  role: 'operator',
  resellerId: null,
  customerId: null,
  via: 'session',
  twoFactor: { enabled: false, mustEnrol: false },
};

export interface Recorded {
  method: string;
  path: string;
  /** The query string (`?a=b`, empty when none). */
  search: string;
  body: unknown;
}

/**
 * Renders the whole app at a path against a scripted API: `answer` maps "METHOD /path" to a JSON body (or a
 * [status, body] pair); every request is recorded.
 */
export function renderApp(path: string, answer: (key: string, body: unknown) => unknown) {
  const requests: Recorded[] = [];
  /** The headers of each request, in the same order. */
  const headers: Headers[] = [];
  const fetchImpl = async (input: RequestInfo | URL): Promise<Response> => {
    const request = input as Request;
    const url = new URL(request.url);
    const text = request.method === 'GET' ? '' : await request.text();
    const body = text ? JSON.parse(text) : undefined;
    requests.push({ method: request.method, path: url.pathname, search: url.search, body });
    headers.push(request.headers);
    // A forced delete is a different request from a plain one: its key says so.
    const force = url.searchParams.get('force') === 'true' ? '?force=true' : '';
    const reply = answer(`${request.method} ${url.pathname}${force}`, body);
    const [status, json] = Array.isArray(reply) ? reply : [200, reply];
    if (status === 204) return new Response(null, { status });
    if (json === undefined)
      return new Response(JSON.stringify({ title: 'Not found', status: 404 }), { status: 404 });
    return new Response(JSON.stringify(json), { status, headers: { 'content-type': 'application/json' } });
  };
  const client = createApiClient('http://switchboard.test', fetchImpl as typeof fetch);
  const view = render(
    <Root client={client} queryClient={newQueryClient()}>
      <MemoryRouter initialEntries={[path]}>
        <App />
      </MemoryRouter>
    </Root>,
  );
  return { ...view, requests, headers };
}
