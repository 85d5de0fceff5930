import { screen, waitFor, within } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { operator, renderApp } from './render.tsx';

const list = (items: unknown[]) => ({ items, page: 1, perPage: 50, total: items.length });
const acme = {
  id: 'c1',
  resellerId: null,
  name: 'Acme',
  externalId: null,
  status: 'active',
  maxConcurrentCalls: null,
  maxSubscribers: 10,
  maxCallDuration: null,
  createdAt: '2026-11-26T08:00:00Z',
  updatedAt: '2026-11-26T08:00:00Z',
};

/** A gateway as the API lists it: plain UDP, no trunk registration, no health check. */
function gatewayRow() {
  return {
    id: 'g1',
    groupId: 'p1',
    name: 'gw-a1',
    host: '192.0.2.10',
    port: 5060,
    transport: 'udp',
    authUsername: null,
    authRealm: null,
    priority: 1,
    weight: 1,
    enabled: true,
    trustedSources: [],
    hasAuthPassword: false,
    hasRegisterPassword: false,
    registerEnabled: false,
    registrarUri: null,
    registerUsername: null,
    registerRealm: null,
    registerExpires: 3600,
    registerOutboundProxy: null,
    registerTransport: 'udp',
    registerContactUser: null,
    healthCheck: false,
    healthInterval: 30,
    healthThreshold: 3,
    status: {
      registration: 'disabled',
      registrationError: null,
      registeredAt: null,
      expiresAt: null,
      nextAttemptAt: null,
      health: 'off',
      healthError: null,
      healthChangedAt: null,
      node: null,
    },
  };
}

describe('editing a customer', () => {
  it('opens with the stored values and the focus in it, validates like the API, then saves a PATCH', async () => {
    const user = userEvent.setup();
    const { requests } = renderApp('/admin/customers', (key, body) => {
      if (key === 'GET /api/v1/auth/me') return operator;
      if (key === 'GET /api/v1/customers') return list([acme]);
      if (key === 'PATCH /api/v1/customers/c1') return { ...acme, ...(body as object) };
      return undefined;
    });
    await user.click(await screen.findByRole('button', { name: 'Edit Acme' }));
    const form = screen.getByRole('form', { name: 'Edit customer Acme' });
    const name = within(form).getByLabelText('Name');
    expect(document.activeElement).toBe(name);
    expect((within(form).getByLabelText('Max. subscribers') as HTMLInputElement).value).toBe('10');

    await user.type(within(form).getByLabelText('Max. concurrent calls'), 'ten');
    await user.click(within(form).getByRole('button', { name: 'Save changes' }));
    expect(await within(form).findByText('A whole number, or empty')).toBeTruthy();
    expect(requests.some((r) => r.method === 'PATCH')).toBe(false);

    await user.clear(within(form).getByLabelText('Max. concurrent calls'));
    await user.type(within(form).getByLabelText('Max. concurrent calls'), '4');
    await user.clear(within(form).getByLabelText('Max. subscribers'));
    await user.selectOptions(within(form).getByLabelText('Status'), 'locked');
    await user.clear(name);
    await user.type(name, 'Acme GmbH');
    await user.click(within(form).getByRole('button', { name: 'Save changes' }));
    await waitFor(() => expect(screen.queryByRole('form', { name: 'Edit customer Acme' })).toBeNull());
    expect(requests.find((r) => r.method === 'PATCH')).toEqual({
      method: 'PATCH',
      path: '/api/v1/customers/c1',
      search: '',
      body: {
        name: 'Acme GmbH',
        externalId: null,
        status: 'locked',
        maxConcurrentCalls: 4,
        maxSubscribers: null,
        maxCallDuration: null,
      },
    });
  });

  it('closes on Escape without saving, and shows the problem the API answers with', async () => {
    const user = userEvent.setup();
    const { requests } = renderApp('/admin/customers', (key) => {
      if (key === 'GET /api/v1/auth/me') return operator;
      if (key === 'GET /api/v1/customers') return list([acme]);
      if (key === 'PATCH /api/v1/customers/c1')
        return [
          409,
          { title: 'Conflict', status: 409, errors: [{ field: '/body/name', message: 'already taken' }] },
        ];
      return undefined;
    });
    await user.click(await screen.findByRole('button', { name: 'Edit Acme' }));
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('form', { name: 'Edit customer Acme' })).toBeNull();

    await user.click(screen.getByRole('button', { name: 'Edit Acme' }));
    await user.click(screen.getByRole('button', { name: 'Save changes' }));
    expect((await screen.findByRole('alert')).textContent).toContain('name: already taken');
    expect(screen.getByRole('form', { name: 'Edit customer Acme' })).toBeTruthy();
    expect(requests.filter((r) => r.method === 'PATCH')).toHaveLength(1);
  });
});

describe('editing a domain', () => {
  it('sends the dialling settings, empty ones as null, the transcoding codecs, the codec policy, the upstream PBX, the voicemail access code, and never the name', async () => {
    const user = userEvent.setup();
    const domain = {
      id: 'd1',
      resellerId: null,
      name: 'voip.example.com',
      selfSignup: false,
      countryCode: '49',
      nationalPrefix: '0',
      internationalPrefix: '00',
      areaCode: null,
      rewriteRuleSetId: null,
      transcodeCodecs: ['PCMU', 'PCMA'],
      codecAllow: [],
      codecStrip: ['G729'],
      codecMask: [],
      codecTranscode: [],
      ptime: null,
      dtmfEvents: null,
      upstreamGatewayId: null,
      voicemailAccessCode: null,
      createdAt: '',
      updatedAt: '',
    };
    const { requests } = renderApp('/admin/domains', (key, body) => {
      if (key === 'GET /api/v1/auth/me') return operator;
      if (key === 'GET /api/v1/domains') return list([domain]);
      if (key === 'GET /api/v1/rewrite-rule-sets') return list([{ id: 'r1', name: 'national' }]);
      if (key === 'GET /api/v1/peering-groups') return list([{ id: 'g1', name: 'office' }]);
      if (key === 'GET /api/v1/peering-groups/g1/gateways')
        return list([{ id: 'gw1', name: 'pbx', host: '192.0.2.7', port: 5060 }]);
      if (key === 'PATCH /api/v1/domains/d1') return { ...domain, ...(body as object) };
      return undefined;
    });
    await user.click(await screen.findByRole('button', { name: 'Edit voip.example.com' }));
    const form = screen.getByRole('form', { name: 'Edit domain voip.example.com' });
    await user.type(within(form).getByLabelText('Area code'), '30x');
    await user.click(within(form).getByRole('button', { name: 'Save changes' }));
    expect(await within(form).findByText('Up to 6 digits')).toBeTruthy();
    await user.clear(within(form).getByLabelText('Area code'));
    await user.type(within(form).getByLabelText('Area code'), '30');
    await within(form).findByRole('option', { name: 'national' });
    await user.selectOptions(within(form).getByLabelText('Rewrite rule set'), 'r1');
    await user.click(within(form).getByLabelText('Customers may sign up'));
    await user.click(within(form).getByLabelText('PCMU'));
    await user.click(within(form).getByLabelText('G722'));
    await user.type(within(form).getByLabelText('Allowed codecs, in order'), 'PCMA, PCMU');
    await user.type(within(form).getByLabelText('Transcode to'), 'PCMA');
    await user.type(within(form).getByLabelText('ptime (ms)'), '30');
    await user.click(within(form).getByLabelText(/Always offer RFC 4733/));
    await within(form).findByRole('option', { name: 'office / pbx (192.0.2.7:5060)' });
    await user.selectOptions(within(form).getByLabelText(/Upstream PBX/), 'gw1');
    await user.type(within(form).getByLabelText(/Voicemail access code/), '*5x');
    await user.click(within(form).getByRole('button', { name: 'Save changes' }));
    expect(await within(form).findByText('Digits, * and #, e.g. *98')).toBeTruthy();
    await user.clear(within(form).getByLabelText(/Voicemail access code/));
    await user.type(within(form).getByLabelText(/Voicemail access code/), '*555');
    await user.click(within(form).getByRole('button', { name: 'Save changes' }));
    await waitFor(() => expect(requests.some((r) => r.method === 'PATCH')).toBe(true));
    expect(requests.find((r) => r.method === 'PATCH')?.body).toEqual({
      selfSignup: true,
      countryCode: '49',
      nationalPrefix: '0',
      internationalPrefix: '00',
      areaCode: '30',
      rewriteRuleSetId: 'r1',
      transcodeCodecs: ['PCMA', 'G722'],
      codecAllow: ['PCMA', 'PCMU'],
      codecStrip: ['G729'],
      codecMask: [],
      codecTranscode: ['PCMA'],
      ptime: 30,
      dtmfEvents: true,
      upstreamGatewayId: 'gw1',
      voicemailAccessCode: '*555',
    });
  });
});

describe('editing a subscriber', () => {
  it('sends status, limits, CLIR and the blocked prefixes as a list', async () => {
    const user = userEvent.setup();
    const alice = {
      id: 's1',
      customerId: 'c1',
      domainId: 'd1',
      username: 'alice',
      sipUri: 'sip:alice@voip.example.com',
      displayName: 'Alice',
      status: 'active',
      maxConcurrentCalls: null,
      rewriteRuleSetId: null,
      clir: false,
      srtp: 'optional',
      allowedCalleePrefixes: [],
      blockedCalleePrefixes: ['900'],
      primaryNumber: null,
    };
    const { requests } = renderApp('/admin/subscribers', (key, body) => {
      if (key === 'GET /api/v1/auth/me') return operator;
      if (key === 'GET /api/v1/subscribers') return list([alice]);
      if (key.startsWith('GET /api/v1/')) return list([]);
      if (key === 'PATCH /api/v1/subscribers/s1') return { ...alice, ...(body as object) };
      return undefined;
    });
    await user.click(await screen.findByRole('button', { name: 'Edit alice' }));
    const form = screen.getByRole('form', { name: 'Edit subscriber sip:alice@voip.example.com' });
    const blocked = within(form).getByLabelText('Blocked callee prefixes');
    expect((blocked as HTMLInputElement).value).toBe('900');
    await user.type(blocked, ', 0190 abc');
    await user.click(within(form).getByRole('button', { name: 'Save changes' }));
    expect(await within(form).findByText('Digits only, separated by commas')).toBeTruthy();
    await user.clear(blocked);
    await user.type(blocked, '900, 0190 0900');
    await user.click(within(form).getByLabelText('Hide caller number (CLIR)'));
    const srtp = within(form).getByLabelText('Media encryption (SRTP)') as HTMLSelectElement;
    expect([...srtp.options].map((o) => o.value)).toEqual(['optional', 'preferred', 'mandatory']);
    await user.selectOptions(srtp, 'mandatory');
    await user.click(within(form).getByRole('button', { name: 'Save changes' }));
    await waitFor(() => expect(requests.some((r) => r.method === 'PATCH')).toBe(true));
    expect(requests.find((r) => r.method === 'PATCH')?.body).toEqual({
      displayName: 'Alice',
      status: 'active',
      maxConcurrentCalls: null,
      rewriteRuleSetId: null,
      clir: true,
      srtp: 'mandatory',
      allowedCalleePrefixes: [],
      blockedCalleePrefixes: ['900', '0190', '0900'],
      recordingMode: null,
    });
  });
});

describe('resellers and users', () => {
  it('are in the operator navigation only', async () => {
    renderApp('/admin', (key) => {
      if (key === 'GET /api/v1/auth/me') return { ...operator, role: 'reseller', resellerId: 'r1' };
      if (key.startsWith('GET /api/v1/')) return list([]);
      return undefined;
    });
    const nav = await screen.findByRole('navigation', { name: 'Main' });
    expect(within(nav).getByRole('link', { name: 'Customers' })).toBeTruthy();
    expect(within(nav).queryByRole('link', { name: 'Resellers' })).toBeNull();
    expect(within(nav).queryByRole('link', { name: 'Users' })).toBeNull();
  });

  it('lead operators and resellers to their own password page, which asks for the current password', async () => {
    const user = userEvent.setup();
    renderApp('/admin', (key) => {
      if (key === 'GET /api/v1/auth/me') return { ...operator, role: 'reseller', resellerId: 'r1' };
      if (key.startsWith('GET /api/v1/')) return list([]);
      return undefined;
    });
    const nav = await screen.findByRole('navigation', { name: 'Main' });
    await user.click(within(nav).getByRole('link', { name: 'Password' }));
    expect(await screen.findByRole('heading', { name: 'Change password' })).toBeTruthy();
    expect(screen.getByLabelText('Current password')).toBeTruthy();
  });

  it('sends a reseller who opens the users page back to the dashboard', async () => {
    renderApp('/admin/users', (key) => {
      if (key === 'GET /api/v1/auth/me') return { ...operator, role: 'reseller', resellerId: 'r1' };
      if (key.startsWith('GET /api/v1/')) return list([]);
      return undefined;
    });
    expect(await screen.findByRole('heading', { name: 'Dashboard' })).toBeTruthy();
    expect(screen.queryByRole('heading', { name: 'Users' })).toBeNull();
  });

  it('an operator creates a reseller and renames it', async () => {
    const user = userEvent.setup();
    const stored = { id: 'r1', name: 'Wholesale One', status: 'active', createdAt: '', updatedAt: '' };
    const { requests } = renderApp('/admin/resellers', (key, body) => {
      if (key === 'GET /api/v1/auth/me') return operator;
      if (key === 'GET /api/v1/resellers') return list([stored]);
      if (key === 'POST /api/v1/resellers') return [201, { ...stored, id: 'r2', ...(body as object) }];
      if (key === 'PATCH /api/v1/resellers/r1') return { ...stored, ...(body as object) };
      return undefined;
    });
    const create = await screen.findByRole('form', { name: 'New reseller' });
    await user.click(within(create).getByRole('button', { name: 'Create reseller' }));
    expect(await within(create).findByText('Enter a name')).toBeTruthy();
    await user.type(within(create).getByLabelText('Name'), 'Wholesale Two');
    await user.click(within(create).getByRole('button', { name: 'Create reseller' }));
    await waitFor(() => expect(requests.some((r) => r.method === 'POST')).toBe(true));
    expect(requests.find((r) => r.method === 'POST')?.body).toEqual({
      name: 'Wholesale Two',
      status: 'active',
    });

    await user.click(screen.getByRole('button', { name: 'Edit Wholesale One' }));
    const edit = screen.getByRole('form', { name: 'Edit reseller Wholesale One' });
    await user.clear(within(edit).getByLabelText('Name'));
    await user.type(within(edit).getByLabelText('Name'), 'Wholesale Uno');
    await user.selectOptions(within(edit).getByLabelText('Status'), 'locked');
    await user.click(within(edit).getByRole('button', { name: 'Save changes' }));
    await waitFor(() => expect(requests.some((r) => r.method === 'PATCH')).toBe(true));
    expect(requests.find((r) => r.method === 'PATCH')?.body).toEqual({
      name: 'Wholesale Uno',
      status: 'locked',
    });
  });

  it('an operator creates a customer login (which needs its customer) and disables a user', async () => {
    const user = userEvent.setup();
    const bob = {
      id: 'u2',
      email: 'bob@example.org',
      displayName: null,
      role: 'customer',
      resellerId: null,
      customerId: 'c1',
      subscriberId: null,
      enabled: true,
      lastLoginAt: null,
      createdAt: '',
      updatedAt: '',
    };
    const { requests } = renderApp('/admin/users', (key, body) => {
      if (key === 'GET /api/v1/auth/me') return operator;
      if (key === 'GET /api/v1/users') return list([bob]);
      if (key === 'GET /api/v1/customers') return list([acme]);
      if (key === 'GET /api/v1/resellers') return list([]);
      if (key === 'POST /api/v1/users') return [201, { ...bob, id: 'u3', ...(body as object) }];
      if (key === 'PATCH /api/v1/users/u2') return { ...bob, ...(body as object) };
      return undefined;
    });
    expect(await screen.findByRole('cell', { name: 'customer Acme' })).toBeTruthy();
    const create = screen.getByRole('form', { name: 'New user' });
    await user.type(within(create).getByLabelText('E-mail'), 'carol@example.org');
    await user.type(within(create).getByLabelText('Password'), 'a long enough password');
    await user.click(within(create).getByRole('button', { name: 'Create user' }));
    expect(await within(create).findByText('Choose the customer')).toBeTruthy();
    expect(requests.some((r) => r.method === 'POST')).toBe(false);
    await user.selectOptions(within(create).getByLabelText('Customer'), 'c1');
    await user.click(within(create).getByRole('button', { name: 'Create user' }));
    await waitFor(() => expect(requests.some((r) => r.method === 'POST')).toBe(true));
    expect(requests.find((r) => r.method === 'POST')?.body).toEqual({
      email: 'carol@example.org',
      password: 'a long enough password',
      role: 'customer',
      displayName: null,
      customerId: 'c1',
    });

    await user.click(screen.getByRole('button', { name: 'Edit bob@example.org' }));
    const edit = screen.getByRole('form', { name: 'Edit user bob@example.org' });
    await user.click(within(edit).getByLabelText('May sign in'));
    await user.click(within(edit).getByRole('button', { name: 'Save changes' }));
    await waitFor(() => expect(requests.some((r) => r.method === 'PATCH')).toBe(true));
    // An empty new-password field keeps the password: it is not sent at all.
    expect(requests.find((r) => r.method === 'PATCH')?.body).toEqual({ displayName: null, enabled: false });
  });
});

describe('editing peering and rewrite rules', () => {
  it('saves a gateway of the chosen group with numbers as numbers', async () => {
    const user = userEvent.setup();
    const gw = gatewayRow();
    const { requests } = renderApp('/admin/peering', (key, body) => {
      if (key === 'GET /api/v1/auth/me') return operator;
      if (key === 'GET /api/v1/peering-groups')
        return list([{ id: 'p1', name: 'carrier-a', priority: 1, enabled: true, description: null }]);
      if (key === 'GET /api/v1/peering-groups/p1/gateways') return list([gw]);
      if (key === 'GET /api/v1/peering-groups/p1/rules') return list([]);
      if (key === 'PATCH /api/v1/peering-groups/p1/gateways/g1') return { ...gw, ...(body as object) };
      if (key === 'GET /api/v1/peering-groups/p1/gateways/g1/status')
        return { gatewayId: 'g1', ...gw.status, history: [] };
      if (key === 'GET /api/v1/peer-policies') return list([]);
      return undefined;
    });
    await user.click(await screen.findByRole('button', { name: 'Edit gateway gw-a1' }));
    const form = await screen.findByRole('form', { name: 'Edit gateway gw-a1' });
    await user.clear(within(form).getByLabelText('Port'));
    await user.type(within(form).getByLabelText('Port'), '99999');
    await user.click(within(form).getByRole('button', { name: 'Save changes' }));
    expect(await within(form).findByText('Between 1 and 65535')).toBeTruthy();
    await user.clear(within(form).getByLabelText('Port'));
    await user.type(within(form).getByLabelText('Port'), '5080');
    await user.selectOptions(within(form).getByLabelText('Transport'), 'tcp');
    await user.click(within(form).getByLabelText('Enabled'));
    await user.click(within(form).getByRole('button', { name: 'Save changes' }));
    await waitFor(() => expect(requests.some((r) => r.method === 'PATCH')).toBe(true));
    expect(requests.find((r) => r.method === 'PATCH')?.body).toEqual({
      name: 'gw-a1',
      host: '192.0.2.10',
      port: 5080,
      transport: 'tcp',
      priority: 1,
      weight: 1,
      enabled: false,
      registerEnabled: false,
      registrarUri: null,
      registerUsername: null,
      registerRealm: null,
      registerExpires: 3600,
      registerOutboundProxy: null,
      registerTransport: 'udp',
      healthCheck: false,
      healthInterval: 30,
      healthThreshold: 3,
    });
  });

  it("a gateway's and a peering group's codec policy: the domain form's section, the API's refusal shown, then saved", async () => {
    const user = userEvent.setup();
    const gw = gatewayRow();
    const stored = {
      id: 'pp1',
      gatewayId: 'g1',
      peeringGroupId: null,
      topologyHiding: null,
      maxConcurrentCalls: 30,
      maxCallsPerSecond: null,
      maxCallDuration: null,
      codecAllow: ['PCMA'],
      codecStrip: [],
      codecMask: [],
      codecTranscode: ['PCMA'],
      ptime: 30,
      dtmfEvents: null,
      dtmfInfo: true,
      createdAt: '',
      updatedAt: '',
    };
    // The gateway's editor reads its policy first, the group's (none yet) afterwards.
    let policies: unknown[] = [stored];
    let refuse = true;
    const { requests } = renderApp('/admin/peering', (key, body) => {
      if (key === 'GET /api/v1/auth/me') return operator;
      if (key === 'GET /api/v1/peering-groups')
        return list([{ id: 'p1', name: 'carrier-a', priority: 1, enabled: true, description: null }]);
      if (key === 'GET /api/v1/peering-groups/p1/gateways') return list([gw]);
      if (key === 'GET /api/v1/peering-groups/p1/rules') return list([]);
      if (key === 'GET /api/v1/peering-groups/p1/gateways/g1/status')
        return { gatewayId: 'g1', ...gw.status, history: [] };
      if (key === 'GET /api/v1/peer-policies') return list(policies);
      if (key === 'PATCH /api/v1/peer-policies/pp1') {
        if (!refuse) return { ...stored, ...(body as object) };
        refuse = false;
        return [
          400,
          {
            title: 'Bad Request',
            status: 400,
            errors: [{ field: '/body/codecStrip/0', message: 'not a codec' }],
          },
        ];
      }
      if (key === 'PATCH /api/v1/peering-groups/p1/gateways/g1') return { ...gw, ...(body as object) };
      if (key === 'POST /api/v1/peer-policies') return [201, { ...stored, id: 'pp2', ...(body as object) }];
      if (key === 'PATCH /api/v1/peering-groups/p1') return { id: 'p1', name: 'carrier-a' };
      return undefined;
    });
    await user.click(await screen.findByRole('button', { name: 'Edit gateway gw-a1' }));
    const form = await screen.findByRole('form', { name: 'Edit gateway gw-a1' });
    // The stored policy fills the section.
    expect((within(form).getByLabelText(/Allowed codecs/) as HTMLInputElement).value).toBe('PCMA');
    expect((within(form).getByLabelText('ptime (ms)') as HTMLInputElement).value).toBe('30');
    expect((within(form).getByLabelText(/sends DTMF as SIP INFO/) as HTMLInputElement).checked).toBe(true);
    await user.type(within(form).getByLabelText('Strip codecs'), 'G.729');
    await user.click(within(form).getByRole('button', { name: 'Save changes' }));
    // The API names the item it refused; nothing of the gateway was written.
    expect((await within(form).findByRole('alert')).textContent).toContain('codecStrip/0: not a codec');
    expect(
      requests.some((r) => r.path === '/api/v1/peering-groups/p1/gateways/g1' && r.method === 'PATCH'),
    ).toBe(false);
    await user.clear(within(form).getByLabelText('Strip codecs'));
    await user.type(within(form).getByLabelText('Strip codecs'), 'G729, G722');
    await user.click(within(form).getByRole('button', { name: 'Save changes' }));
    await waitFor(() => expect(screen.queryByRole('form', { name: 'Edit gateway gw-a1' })).toBeNull());
    const patches = requests.filter((r) => r.path === '/api/v1/peer-policies/pp1');
    expect(patches.at(-1)?.body).toEqual({
      codecAllow: ['PCMA'],
      codecStrip: ['G729', 'G722'],
      codecMask: [],
      codecTranscode: ['PCMA'],
      ptime: 30,
      dtmfEvents: null,
      dtmfInfo: true,
      // The policy's other section goes along as stored.
      topologyHiding: null,
      maxConcurrentCalls: 30,
      maxCallsPerSecond: null,
      maxCallDuration: null,
    });
    expect(
      requests.some((r) => r.path === '/api/v1/peering-groups/p1/gateways/g1' && r.method === 'PATCH'),
    ).toBe(true);

    // The group has no policy yet: one is created with what the form sets.
    policies = [];
    await user.click(screen.getByRole('button', { name: 'Edit peering group carrier-a' }));
    const group = await screen.findByRole('form', { name: 'Edit peering group carrier-a' });
    expect((within(group).getByLabelText(/Allowed codecs/) as HTMLInputElement).value).toBe('');
    await user.type(within(group).getByLabelText(/Allowed codecs/), 'PCMU, PCMA');
    await user.click(within(group).getByLabelText(/Always offer RFC 4733/));
    await user.click(within(group).getByRole('button', { name: 'Save changes' }));
    await waitFor(() => expect(requests.some((r) => r.method === 'POST')).toBe(true));
    expect(requests.find((r) => r.method === 'POST')?.body).toEqual({
      peeringGroupId: 'p1',
      codecAllow: ['PCMU', 'PCMA'],
      codecStrip: [],
      codecMask: [],
      codecTranscode: [],
      ptime: null,
      dtmfEvents: true,
      dtmfInfo: null,
      topologyHiding: null,
      maxConcurrentCalls: null,
      maxCallsPerSecond: null,
      maxCallDuration: null,
    });
  });

  it("a gateway's and a peering group's topology hiding and limits: filled from the policy, checked, the API's refusal shown, then saved", async () => {
    const user = userEvent.setup();
    const gw = gatewayRow();
    const stored = {
      id: 'pp1',
      gatewayId: 'g1',
      peeringGroupId: null,
      topologyHiding: null,
      maxConcurrentCalls: 30,
      maxCallsPerSecond: null,
      maxCallDuration: 14400,
      codecAllow: [],
      codecStrip: [],
      codecMask: [],
      codecTranscode: [],
      ptime: null,
      dtmfEvents: null,
      dtmfInfo: null,
      createdAt: '',
      updatedAt: '',
    };
    let policies: unknown[] = [stored];
    let refuse = true;
    const { requests } = renderApp('/admin/peering', (key, body) => {
      if (key === 'GET /api/v1/auth/me') return operator;
      if (key === 'GET /api/v1/peering-groups')
        return list([{ id: 'p1', name: 'carrier-a', priority: 1, enabled: true, description: null }]);
      if (key === 'GET /api/v1/peering-groups/p1/gateways') return list([gw]);
      if (key === 'GET /api/v1/peering-groups/p1/rules') return list([]);
      if (key === 'GET /api/v1/peering-groups/p1/gateways/g1/status')
        return { gatewayId: 'g1', ...gw.status, history: [] };
      if (key === 'GET /api/v1/peer-policies') return list(policies);
      if (key === 'PATCH /api/v1/peer-policies/pp1') {
        if (!refuse) return { ...stored, ...(body as object) };
        refuse = false;
        return [
          400,
          {
            title: 'Bad Request',
            status: 400,
            errors: [{ field: '/body/maxCallsPerSecond', message: 'must be <= 1000000' }],
          },
        ];
      }
      if (key === 'PATCH /api/v1/peering-groups/p1/gateways/g1') return { ...gw, ...(body as object) };
      if (key === 'POST /api/v1/peer-policies') return [201, { ...stored, id: 'pp2', ...(body as object) }];
      if (key === 'PATCH /api/v1/peering-groups/p1') return { id: 'p1', name: 'carrier-a' };
      return undefined;
    });
    await user.click(await screen.findByRole('button', { name: 'Edit gateway gw-a1' }));
    const form = await screen.findByRole('form', { name: 'Edit gateway gw-a1' });
    // The stored policy fills the section.
    expect((within(form).getByLabelText('Topology hiding') as HTMLSelectElement).value).toBe('inherit');
    expect((within(form).getByLabelText('Concurrent calls') as HTMLInputElement).value).toBe('30');
    expect((within(form).getByLabelText('Longest call (seconds)') as HTMLInputElement).value).toBe('14400');
    // Not a number: the form says so and sends nothing.
    await user.type(within(form).getByLabelText('New calls per second'), 'five');
    await user.click(within(form).getByRole('button', { name: 'Save changes' }));
    expect(await within(form).findByText(/A whole number from 1/)).toBeTruthy();
    expect(requests.some((r) => r.method === 'PATCH')).toBe(false);
    // The API's refusal names the field; nothing of the gateway is written.
    await user.clear(within(form).getByLabelText('New calls per second'));
    await user.type(within(form).getByLabelText('New calls per second'), '5');
    await user.selectOptions(within(form).getByLabelText('Topology hiding'), 'off');
    await user.click(within(form).getByRole('button', { name: 'Save changes' }));
    expect((await within(form).findByRole('alert')).textContent).toContain('maxCallsPerSecond');
    expect(
      requests.some((r) => r.path === '/api/v1/peering-groups/p1/gateways/g1' && r.method === 'PATCH'),
    ).toBe(false);
    await user.clear(within(form).getByLabelText('Longest call (seconds)'));
    await user.click(within(form).getByRole('button', { name: 'Save changes' }));
    await waitFor(() => expect(screen.queryByRole('form', { name: 'Edit gateway gw-a1' })).toBeNull());
    const patches = requests.filter((r) => r.path === '/api/v1/peer-policies/pp1');
    expect(patches.at(-1)?.body).toMatchObject({
      topologyHiding: false,
      maxConcurrentCalls: 30,
      maxCallsPerSecond: 5,
      maxCallDuration: null,
      codecAllow: [],
    });

    // The group has no policy yet: setting a limit alone creates one.
    policies = [];
    await user.click(screen.getByRole('button', { name: 'Edit peering group carrier-a' }));
    const group = await screen.findByRole('form', { name: 'Edit peering group carrier-a' });
    expect((within(group).getByLabelText('Concurrent calls') as HTMLInputElement).value).toBe('');
    await user.type(within(group).getByLabelText('Concurrent calls'), '60');
    await user.click(within(group).getByRole('button', { name: 'Save changes' }));
    await waitFor(() => expect(requests.some((r) => r.method === 'POST')).toBe(true));
    expect(requests.find((r) => r.method === 'POST')?.body).toMatchObject({
      peeringGroupId: 'p1',
      topologyHiding: null,
      maxConcurrentCalls: 60,
      maxCallsPerSecond: null,
      maxCallDuration: null,
    });
  });

  it('saves a rewrite rule of the chosen set', async () => {
    const user = userEvent.setup();
    const rule = {
      id: 'w1',
      ruleSetId: 's1',
      direction: 'from_subscriber',
      field: 'callee',
      matchPattern: '^0(.*)$',
      replacement: '+49$1',
      priority: 100,
      enabled: true,
      description: null,
    };
    const { requests } = renderApp('/admin/rewrite-rules', (key, body) => {
      if (key === 'GET /api/v1/auth/me') return operator;
      if (key === 'GET /api/v1/rewrite-rule-sets') return list([{ id: 's1', name: 'national' }]);
      if (key === 'GET /api/v1/rewrite-rule-sets/s1/rules') return list([rule]);
      if (key === 'PATCH /api/v1/rewrite-rule-sets/s1/rules/w1') return { ...rule, ...(body as object) };
      return undefined;
    });
    await user.click(await screen.findByRole('button', { name: 'Edit rule ^0(.*)$' }));
    const form = screen.getByRole('form', { name: 'Edit rule ^0(.*)$' });
    await user.clear(within(form).getByLabelText('Rule pattern'));
    await user.click(within(form).getByRole('button', { name: 'Save changes' }));
    expect(await within(form).findByText('Enter a pattern')).toBeTruthy();
    await user.type(within(form).getByLabelText('Rule pattern'), '^00(.*)$');
    await user.clear(within(form).getByLabelText('Rule priority'));
    await user.type(within(form).getByLabelText('Rule priority'), '50');
    await user.click(within(form).getByRole('button', { name: 'Save changes' }));
    await waitFor(() => expect(requests.some((r) => r.method === 'PATCH')).toBe(true));
    expect(requests.find((r) => r.method === 'PATCH')?.body).toEqual({
      direction: 'from_subscriber',
      field: 'callee',
      matchPattern: '^00(.*)$',
      replacement: '+49$1',
      priority: 50,
      enabled: true,
    });
  });
});
