import { screen, waitFor } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { operator, renderApp } from './render.tsx';

const emptyList = { items: [], page: 1, perPage: 50, total: 0 };

describe('login', () => {
  it('shows field errors without calling the API, then signs in and lands on the dashboard', async () => {
    const user = userEvent.setup();
    // Signed out until the login answers (in the browser: until it has set the session cookie).
    let signedIn = false;
    const { requests, headers } = renderApp('/login', (key) => {
      if (key === 'POST /api/v1/auth/login') {
        signedIn = true;
        return { token: 'sbt_test', expiresAt: new Date().toISOString(), user: {} };
      }
      if (key === 'GET /api/v1/auth/me') return signedIn ? operator : [401, { status: 401 }];
      if (key.startsWith('GET /api/v1/')) return emptyList;
      return undefined;
    });
    await user.click(await screen.findByRole('button', { name: 'Sign in' }));
    expect(await screen.findByText('Enter an e-mail address')).toBeTruthy();
    expect(requests.filter((r) => r.method !== 'GET')).toHaveLength(0);

    await user.type(screen.getByLabelText('E-mail'), 'ops@example.com');
    await user.type(screen.getByLabelText('Password'), 'correct horse');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('heading', { name: 'Dashboard' })).toBeTruthy();
    const login = requests.findIndex((r) => r.method === 'POST');
    expect(requests[login]).toEqual({
      method: 'POST',
      path: '/api/v1/auth/login',
      search: '',
      body: { email: 'ops@example.com', password: 'correct horse' },
    });
    // The session lives in the HttpOnly cookie the login sets: no bearer header, no token kept by scripts.
    expect(headers.every((h) => h.get('authorization') === null)).toBe(true);
    expect(JSON.stringify({ ...localStorage, ...sessionStorage })).not.toContain('sbt_test');
  });

  it('sends the CSRF token from its cookie with changes, not with reads', async () => {
    const user = userEvent.setup();
    // biome-ignore lint/suspicious/noDocumentCookie: plays the login's Set-Cookie, which jsdom cannot receive here
    document.cookie = 'sb_csrf=csrf-of-this-session';
    try {
      const { requests, headers } = renderApp('/portal/password', (key) => {
        if (key === 'GET /api/v1/auth/me') return { ...operator, role: 'customer', customerId: 'c1' };
        if (key === 'POST /api/v1/auth/password') return [204, null];
        if (key.startsWith('GET /api/v1/')) return emptyList;
        return undefined;
      });
      await user.type(await screen.findByLabelText('Current password'), 'old password 1');
      await user.type(screen.getByLabelText('New password'), 'a new password 2');
      await user.type(screen.getByLabelText('Repeat new password'), 'a new password 2');
      await user.click(screen.getByRole('button', { name: 'Change password' }));
      // The API ended every session: the page goes to the sign-in, saying why.
      await screen.findByRole('heading', { name: 'Sign in to Switchboard' });
      expect((await screen.findByRole('status')).textContent).toContain('Password changed');
      const post = requests.findIndex((r) => r.method === 'POST');
      expect(requests[post]).toEqual({
        method: 'POST',
        path: '/api/v1/auth/password',
        search: '',
        body: { currentPassword: 'old password 1', newPassword: 'a new password 2' },
      });
      expect(headers[post]?.get('x-csrf-token')).toBe('csrf-of-this-session');
      expect(headers[0]?.get('x-csrf-token')).toBeNull();
    } finally {
      // biome-ignore lint/suspicious/noDocumentCookie: removes the cookie set above
      document.cookie = 'sb_csrf=; expires=Thu, 01 Jan 1970 00:00:00 GMT';
    }
  });

  it('shows the problem the API answers with', async () => {
    const user = userEvent.setup();
    renderApp('/login', (key) =>
      key === 'POST /api/v1/auth/login'
        ? [401, { title: 'Unauthorized', status: 401, detail: 'Wrong e-mail or password' }]
        : undefined,
    );
    await user.type(await screen.findByLabelText('E-mail'), 'ops@example.com');
    await user.type(screen.getByLabelText('Password'), 'wrong');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect((await screen.findByRole('alert')).textContent).toContain('Wrong e-mail or password');
  });
});

describe('subscribers', () => {
  it('creates a subscriber and shows the generated SIP password once', async () => {
    const user = userEvent.setup();
    const { requests } = renderApp('/admin/subscribers', (key) => {
      switch (key) {
        case 'GET /api/v1/auth/me':
          return operator;
        case 'GET /api/v1/customers':
          return {
            ...emptyList,
            items: [{ id: 'c1', name: 'Acme', status: 'active', externalId: null, createdAt: '' }],
            total: 1,
          };
        case 'GET /api/v1/domains':
          return {
            ...emptyList,
            items: [{ id: 'd1', name: 'voip.example.com', countryCode: null, selfSignup: false }],
            total: 1,
          };
        case 'GET /api/v1/subscribers':
          return emptyList;
        case 'POST /api/v1/subscribers':
          return [201, { id: 's1', sipUri: 'sip:alice@voip.example.com', password: 'Gen3rated-Pass' }];
        default:
          return undefined;
      }
    });
    await screen.findByRole('option', { name: 'Acme' });
    await user.selectOptions(screen.getByLabelText('Customer'), 'c1');
    await user.selectOptions(screen.getByLabelText('Domain'), 'd1');
    await user.type(screen.getByLabelText('User name'), 'alice');
    await user.click(screen.getByRole('button', { name: 'Create subscriber' }));
    expect((await screen.findByTestId('new-sip-password')).textContent).toBe('Gen3rated-Pass');
    const post = requests.find((r) => r.method === 'POST');
    expect(post?.body).toEqual({ customerId: 'c1', domainId: 'd1', username: 'alice', displayName: null });
  });

  it('sends customers to the portal, not the admin', async () => {
    renderApp('/admin/customers', (key) => {
      if (key === 'GET /api/v1/auth/me') return { ...operator, role: 'customer', customerId: 'c1' };
      if (key.startsWith('GET /api/v1/')) return emptyList;
      return undefined;
    });
    expect(await screen.findByRole('heading', { name: 'My phones' })).toBeTruthy();
    await waitFor(() => expect(screen.queryByRole('heading', { name: 'Customers' })).toBeNull());
  });
});

describe('my phones', () => {
  it("shows each phone's SRTP policy, saying what the phone must do when SRTP is mandatory", async () => {
    const subscriber = (id: string, username: string, srtp: string) => ({
      id,
      customerId: 'c1',
      domainId: 'd1',
      domain: 'voip.example.com',
      sipUri: `sip:${username}@voip.example.com`,
      primaryNumber: null,
      customerName: 'Acme',
      online: false,
      username,
      displayName: null,
      status: 'active',
      maxConcurrentCalls: null,
      rewriteRuleSetId: null,
      clir: false,
      srtp,
      allowedCalleePrefixes: [],
      blockedCalleePrefixes: [],
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
    });
    renderApp('/portal', (key) => {
      if (key === 'GET /api/v1/auth/me') return { ...operator, role: 'customer', customerId: 'c1' };
      if (key.startsWith('GET /api/v1/subscribers?') || key === 'GET /api/v1/subscribers')
        return {
          ...emptyList,
          items: [subscriber('s1', 'alice', 'mandatory'), subscriber('s2', 'bob', 'optional')],
          total: 2,
        };
      if (key.startsWith('GET /api/v1/')) return emptyList;
      return undefined;
    });
    const alice = await screen.findByLabelText('Media encryption of sip:alice@voip.example.com');
    expect(alice.textContent).toContain('mandatory');
    expect(alice.textContent).toContain('calls without SRTP are refused');
    const bob = screen.getByLabelText('Media encryption of sip:bob@voip.example.com');
    expect(bob.textContent).toContain('optional');
  });
});

describe('call history', () => {
  const cdr = (id: string, callerDialled: string, callerWithheld: boolean) => ({
    id,
    callId: `call-${id}`,
    direction: 'internal',
    callerDialled,
    calleeDialled: 'sip:bob@voip.example.com',
    callerRouted: callerWithheld ? 'anonymous' : callerDialled,
    calleeRouted: 'sip:bob@voip.example.com',
    callerWithheld,
    startedAt: '2026-02-01T10:00:00.000Z',
    answeredAt: '2026-02-01T10:00:02.000Z',
    endedAt: '2026-02-01T10:00:12.000Z',
    durationMs: 10_000,
    disposition: 'answered',
    sipCode: 200,
    sipReason: null,
    callerSubscriberId: null,
    calleeSubscriberId: 's2',
    callerCustomerId: null,
    calleeCustomerId: 'c1',
    peerGatewayId: null,
    forwardedFrom: null,
    forwardType: null,
    node: null,
  });

  it("shows a withheld caller as Anonymous in the callee's portal, and marked withheld to the operator", async () => {
    const portal = renderApp('/portal/history', (key) => {
      if (key === 'GET /api/v1/auth/me') return { ...operator, role: 'customer', customerId: 'c1' };
      if (key === 'GET /api/v1/cdrs')
        return {
          ...emptyList,
          items: [cdr('x1', 'anonymous', true), cdr('x2', 'sip:carol@voip.example.com', false)],
          total: 2,
        };
      if (key.startsWith('GET /api/v1/')) return emptyList;
      return undefined;
    });
    expect(await screen.findByText('Anonymous')).toBeTruthy();
    expect(screen.getByText('sip:carol@voip.example.com')).toBeTruthy();
    portal.unmount();

    renderApp('/admin/cdrs', (key) => {
      if (key === 'GET /api/v1/auth/me') return operator;
      if (key === 'GET /api/v1/cdrs')
        return { ...emptyList, items: [cdr('x1', 'sip:alice@voip.example.com', true)], total: 1 };
      if (key.startsWith('GET /api/v1/')) return emptyList;
      return undefined;
    });
    expect(await screen.findByText('sip:alice@voip.example.com (withheld)')).toBeTruthy();
  });
});
