import { screen, waitFor, within } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { operator, type Recorded, renderApp } from './render.tsx';

const list = <T,>(items: T[]) => ({ items, page: 1, perPage: 50, total: items.length });
const settings = {
  recordingMode: 'off',
  recordingAnnouncement: false,
  recordingRetentionDays: null,
  recordingWebhookUrl: null,
  recordingWebhookSecretSet: false,
};
const acme = {
  id: 'c1',
  resellerId: 'r1',
  name: 'Acme',
  externalId: null,
  status: 'active',
  maxConcurrentCalls: null,
  maxSubscribers: null,
  maxCallDuration: null,
  createdAt: '2026-11-26T08:00:00Z',
  updatedAt: '2026-11-26T08:00:00Z',
};
const alice = {
  id: 's1',
  customerId: 'c1',
  domainId: 'd1',
  domain: 'voip.example.com',
  sipUri: 'sip:alice@voip.example.com',
  primaryNumber: null,
  customerName: 'Acme',
  online: false,
  username: 'alice',
  displayName: 'Alice',
  status: 'active',
  maxConcurrentCalls: null,
  rewriteRuleSetId: null,
  clir: false,
  srtp: 'optional',
  recordingMode: null,
  allowedCalleePrefixes: [],
  blockedCalleePrefixes: [],
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};
const reseller = { ...operator, role: 'reseller', resellerId: 'r1' };
const customer = { ...operator, role: 'customer', customerId: 'c1' };
const badRequest = (field: string, message: string) => [
  400,
  { title: 'Bad Request', status: 400, errors: [{ field: `/body/${field}`, message }] },
];
const patches = (requests: Recorded[], path: string) =>
  requests.filter((r) => r.method === 'PATCH' && r.path === path).map((r) => r.body);

describe("a customer's recording settings in the admin", () => {
  it("an operator sets mode, retention, announcement, webhook and secret; the API's field error is shown at the field", async () => {
    const user = userEvent.setup();
    const { requests } = renderApp('/admin/customers', (key, body) => {
      if (key === 'GET /api/v1/auth/me') return operator;
      if (key === 'GET /api/v1/customers') return list([acme]);
      if (key === 'GET /api/v1/customers/c1/recording-settings') return settings;
      if (key === 'PATCH /api/v1/customers/c1/recording-settings') {
        const url = (body as { recordingWebhookUrl?: string }).recordingWebhookUrl;
        if (url && !/^https?:\/\//.test(url))
          return badRequest('recordingWebhookUrl', 'must start with http:// or https://');
        return { ...settings, ...(body as object), recordingWebhookSecretSet: true };
      }
      if (key.startsWith('GET /api/v1/')) return list([]);
      return undefined;
    });
    await user.click(await screen.findByRole('button', { name: 'Edit Acme' }));
    const form = await screen.findByRole('form', { name: 'Recording settings' });
    const mode = within(form).getByLabelText('Record calls') as HTMLSelectElement;
    expect([...mode.options].map((o) => o.value)).toEqual(['off', 'always', 'on_demand']);
    await user.selectOptions(mode, 'on_demand');
    const days = within(form).getByLabelText('Keep for days (empty: until deleted)');
    await user.type(days, '0');
    await user.click(within(form).getByLabelText('Announce the recording to both parties'));
    await user.type(within(form).getByLabelText('Webhook URL (empty: none)'), 'ftp://crm.example.com/hook');
    await user.type(within(form).getByLabelText('New webhook signing secret'), 'sixteen-chars-long');

    // The API's range is checked here first: nothing is sent.
    await user.click(within(form).getByRole('button', { name: 'Save' }));
    expect(await within(form).findByText('Between 1 and 3650')).toBeTruthy();
    expect(patches(requests, '/api/v1/customers/c1/recording-settings')).toHaveLength(0);

    await user.clear(days);
    await user.type(days, '90');
    await user.click(within(form).getByRole('button', { name: 'Save' }));
    expect((await within(form).findByRole('alert')).textContent).toContain(
      'recordingWebhookUrl: must start with http:// or https://',
    );
    const url = within(form).getByLabelText('Webhook URL (empty: none)');
    expect(url.getAttribute('aria-invalid')).toBe('true');
    expect(within(form).getByText('must start with http:// or https://')).toBeTruthy();

    await user.clear(url);
    await user.type(url, 'https://crm.example.com/hook');
    await user.click(within(form).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(patches(requests, '/api/v1/customers/c1/recording-settings')).toHaveLength(2));
    expect(patches(requests, '/api/v1/customers/c1/recording-settings')[1]).toEqual({
      recordingMode: 'on_demand',
      recordingAnnouncement: true,
      recordingRetentionDays: 90,
      recordingWebhookUrl: 'https://crm.example.com/hook',
      recordingWebhookSecret: 'sixteen-chars-long',
    });
    await waitFor(() => expect(within(form).queryByRole('alert')).toBeNull());
  });

  it('a reseller keeps the stored secret when the field stays empty, and removes it on request', async () => {
    const user = userEvent.setup();
    const stored = {
      ...settings,
      recordingWebhookUrl: 'https://crm.example.com/hook',
      recordingWebhookSecretSet: true,
    };
    const { requests } = renderApp('/admin/customers', (key, body) => {
      if (key === 'GET /api/v1/auth/me') return reseller;
      if (key === 'GET /api/v1/customers') return list([acme]);
      if (key === 'GET /api/v1/customers/c1/recording-settings') return stored;
      if (key === 'PATCH /api/v1/customers/c1/recording-settings') return { ...stored, ...(body as object) };
      if (key.startsWith('GET /api/v1/')) return list([]);
      return undefined;
    });
    await user.click(await screen.findByRole('button', { name: 'Edit Acme' }));
    const form = await screen.findByRole('form', { name: 'Recording settings' });
    await waitFor(() =>
      expect((within(form).getByLabelText('Webhook URL (empty: none)') as HTMLInputElement).value).toBe(
        'https://crm.example.com/hook',
      ),
    );
    await user.click(within(form).getByRole('button', { name: 'Save' }));
    // The save refetches the settings; the next change is made on the form filled from them.
    await waitFor(() =>
      expect(
        requests.filter((r) => r.method === 'GET' && r.path === '/api/v1/customers/c1/recording-settings'),
      ).toHaveLength(2),
    );
    await user.click(within(form).getByLabelText('Remove the signing secret'));
    await user.click(within(form).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(patches(requests, '/api/v1/customers/c1/recording-settings')).toHaveLength(2));
    const [kept, removed] = patches(requests, '/api/v1/customers/c1/recording-settings');
    expect(kept).toEqual({
      recordingMode: 'off',
      recordingAnnouncement: false,
      recordingRetentionDays: null,
      recordingWebhookUrl: 'https://crm.example.com/hook',
    });
    expect(removed).toMatchObject({ recordingWebhookSecret: null });
  });
});

describe("a customer's own recording settings in the portal", () => {
  it('offers no webhook fields, sends none, and shows the field the API refused', async () => {
    const user = userEvent.setup();
    const { requests } = renderApp('/portal/recordings', (key) => {
      if (key === 'GET /api/v1/auth/me') return customer;
      if (key === 'GET /api/v1/customers/c1/recording-settings')
        return { ...settings, recordingWebhookUrl: 'https://crm.example.com/hook' };
      if (key === 'PATCH /api/v1/customers/c1/recording-settings')
        return badRequest('recordingMode', 'must be equal to one of the allowed values');
      if (key === 'GET /api/v1/recordings') return list([]);
      return undefined;
    });
    const form = await screen.findByRole('form', { name: 'Recording settings' });
    expect(
      await within(form).findByText(
        'Your provider tells https://crm.example.com/hook about each new recording.',
      ),
    ).toBeTruthy();
    expect(within(form).queryByLabelText('Webhook URL (empty: none)')).toBeNull();
    expect(within(form).queryByLabelText('New webhook signing secret')).toBeNull();
    await user.selectOptions(within(form).getByLabelText('Record calls'), 'on_demand');
    await user.click(within(form).getByRole('button', { name: 'Save' }));
    expect(await within(form).findByText('must be equal to one of the allowed values')).toBeTruthy();
    expect(patches(requests, '/api/v1/customers/c1/recording-settings')).toEqual([
      { recordingMode: 'on_demand', recordingAnnouncement: false, recordingRetentionDays: null },
    ]);
  });
});

describe("a subscriber's own recording mode", () => {
  it("the admin's subscriber editor offers the customer's setting or a mode, and sends it", async () => {
    const user = userEvent.setup();
    const { requests } = renderApp('/admin/subscribers', (key, body) => {
      if (key === 'GET /api/v1/auth/me') return operator;
      if (key === 'GET /api/v1/subscribers') return list([{ ...alice, recordingMode: 'always' }]);
      if (key === 'PATCH /api/v1/subscribers/s1') {
        const mode = (body as { recordingMode?: string }).recordingMode;
        if (mode === 'off') return badRequest('recordingMode', 'the customer records every call');
        return { ...alice, ...(body as object) };
      }
      if (key.startsWith('GET /api/v1/')) return list([]);
      return undefined;
    });
    await user.click(await screen.findByRole('button', { name: 'Edit alice' }));
    const form = screen.getByRole('form', { name: 'Edit subscriber sip:alice@voip.example.com' });
    const mode = within(form).getByLabelText('Call recording') as HTMLSelectElement;
    expect(mode.value).toBe('always');
    expect([...mode.options].map((o) => [o.value, o.textContent])).toEqual([
      ['', "The customer's setting"],
      ['off', 'Off'],
      ['always', 'Always'],
      ['on_demand', 'On demand (the phone switches it on with the recording code)'],
    ]);
    await user.selectOptions(mode, 'off');
    await user.click(within(form).getByRole('button', { name: 'Save changes' }));
    expect(await within(form).findByText('the customer records every call')).toBeTruthy();
    await user.selectOptions(mode, 'on_demand');
    await user.click(within(form).getByRole('button', { name: 'Save changes' }));
    await waitFor(() => expect(patches(requests, '/api/v1/subscribers/s1')).toHaveLength(2));
    expect(patches(requests, '/api/v1/subscribers/s1')[1]).toMatchObject({ recordingMode: 'on_demand' });
  });

  it("the portal's phone card sets the phone's own mode, or back to the company's (null)", async () => {
    const user = userEvent.setup();
    const { requests } = renderApp('/portal', (key, body) => {
      if (key === 'GET /api/v1/auth/me') return customer;
      if (key === 'GET /api/v1/subscribers') return list([{ ...alice, recordingMode: 'on_demand' }]);
      if (key === 'PATCH /api/v1/subscribers/s1') {
        if ((body as { recordingMode?: string }).recordingMode === 'off')
          return badRequest('recordingMode', 'not allowed for this phone');
        return { ...alice, ...(body as object) };
      }
      if (key.startsWith('GET /api/v1/')) return list([]);
      return undefined;
    });
    const form = await screen.findByRole('form', { name: 'Call recording of sip:alice@voip.example.com' });
    const mode = within(form).getByLabelText('Call recording') as HTMLSelectElement;
    expect(mode.value).toBe('on_demand');
    await user.selectOptions(mode, 'off');
    await user.click(within(form).getByRole('button', { name: 'Save' }));
    expect(await within(form).findByText('not allowed for this phone')).toBeTruthy();
    await user.selectOptions(mode, '');
    await user.click(within(form).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(patches(requests, '/api/v1/subscribers/s1')).toHaveLength(2));
    expect(patches(requests, '/api/v1/subscribers/s1')).toEqual([
      { recordingMode: 'off' },
      { recordingMode: null },
    ]);
  });
});

describe('recordings in the admin', () => {
  it("lists a reseller's recordings (the API scopes them) and plays one, with no customer settings form on the page", async () => {
    const user = userEvent.setup();
    const { requests } = renderApp('/admin/recordings', (key) => {
      if (key === 'GET /api/v1/auth/me') return reseller;
      if (key === 'GET /api/v1/recordings')
        return list([
          {
            id: 'r1',
            cdrId: 'cdr1',
            customerId: 'c1',
            subscriberId: 's1',
            durationMs: 5_000,
            sizeBytes: 160_044,
            createdAt: '2026-12-05T06:00:00.000Z',
          },
        ]);
      return undefined;
    });
    expect(await screen.findByRole('cell', { name: '156 KiB' })).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Play' }));
    expect(document.querySelector('audio')?.getAttribute('src')).toBe('/api/v1/recordings/r1/audio');
    expect(screen.queryByRole('form', { name: 'Recording settings' })).toBeNull();
    expect(requests.some((r) => r.path.endsWith('/recording-settings'))).toBe(false);
  });
});
