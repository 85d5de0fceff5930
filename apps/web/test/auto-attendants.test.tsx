import { screen, waitFor, within } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { operator, renderApp } from './render.tsx';

const list = <T,>(items: T[]) => ({ items, page: 1, perPage: 50, total: items.length });
const phone = (id: string, user: string) => ({ id, sipUri: `sip:${user}@voip.example.com`, username: user });
const main = {
  id: 'a1',
  customerId: 'c1',
  domainId: 'd1',
  username: 'main',
  name: 'Main line',
  greetingText: 'Welcome.',
  greeting: 'generated',
  digitTimeout: 5,
  maxReplays: 2,
  timeoutKind: 'subscriber',
  timeoutTarget: 's1',
  enabled: true,
  sipUri: 'sip:main@voip.example.com',
  menu: [{ digit: '1', kind: 'hunt_group', target: 'h1' }],
  createdAt: '',
  updatedAt: '',
};

describe('auto-attendants in the customer portal', () => {
  it('creates an attendant whose digits go to a group and a phone, and edits its menu', async () => {
    const user = userEvent.setup();
    const { requests } = renderApp('/portal/auto-attendants', (key, body) => {
      switch (key) {
        case 'GET /api/v1/auth/me':
          return { ...operator, role: 'customer', customerId: 'c1' };
        case 'GET /api/v1/auto-attendants':
          return list([main]);
        case 'GET /api/v1/domains':
          return list([{ id: 'd1', name: 'voip.example.com', countryCode: null, selfSignup: false }]);
        case 'GET /api/v1/subscribers':
          return list([phone('s1', 'anna'), phone('s2', 'ben')]);
        case 'GET /api/v1/hunt-groups':
          return list([{ id: 'h1', sipUri: 'sip:sales@voip.example.com', username: 'sales' }]);
        case 'POST /api/v1/auto-attendants':
          return [201, { ...main, id: 'a2', ...(body as object) }];
        case 'PATCH /api/v1/auto-attendants/a1':
          return { ...main, ...(body as object) };
        default:
          return undefined;
      }
    });
    expect(await screen.findByRole('cell', { name: 'sip:main@voip.example.com' })).toBeTruthy();
    const create = screen.getByRole('form', { name: 'New auto-attendant' });
    expect(within(create).queryByLabelText('Customer')).toBeNull();
    await within(create).findByRole('option', { name: 'voip.example.com' });
    await user.selectOptions(within(create).getByLabelText('Domain'), 'd1');
    await user.type(within(create).getByLabelText('User name'), 'reception');
    await user.type(within(create).getByLabelText('Name'), 'Reception');
    await within(create).findAllByRole('option', { name: 'Group sip:sales@voip.example.com' });
    await user.selectOptions(within(create).getByLabelText('Digit 1'), 'hunt_group:h1');
    await user.selectOptions(within(create).getByLabelText('Digit 2'), 'subscriber:s2');
    await user.selectOptions(
      within(create).getByLabelText('No digit (timeout, e.g. the operator)'),
      'subscriber:s1',
    );
    await user.click(within(create).getByRole('button', { name: 'Save auto-attendant' }));
    await waitFor(() => expect(requests.some((r) => r.method === 'POST')).toBe(true));
    expect(requests.find((r) => r.method === 'POST')?.body).toMatchObject({
      domainId: 'd1',
      username: 'reception',
      name: 'Reception',
      digitTimeout: 5,
      maxReplays: 2,
      menu: [
        { digit: '1', kind: 'hunt_group', target: 'h1' },
        { digit: '2', kind: 'subscriber', target: 's2' },
      ],
      timeoutKind: 'subscriber',
      timeoutTarget: 's1',
    });

    await user.click(screen.getByRole('button', { name: 'Edit auto-attendant sip:main@voip.example.com' }));
    const edit = screen.getByRole('form', { name: 'Edit auto-attendant sip:main@voip.example.com' });
    await within(edit).findAllByRole('option', { name: 'Voicemail sip:ben@voip.example.com' });
    await user.selectOptions(within(edit).getByLabelText('Digit 9'), 'voicemail:s2');
    await user.click(within(edit).getByRole('button', { name: /save/i }));
    await waitFor(() => expect(requests.some((r) => r.method === 'PATCH')).toBe(true));
    expect(requests.find((r) => r.method === 'PATCH')?.body).toMatchObject({
      menu: [
        { digit: '1', kind: 'hunt_group', target: 'h1' },
        { digit: '9', kind: 'voicemail', target: 's2' },
      ],
      timeoutKind: 'subscriber',
      timeoutTarget: 's1',
    });
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('sends digits and the timeout to a number, uploads a recorded greeting and goes back to the spoken one', async () => {
    const user = userEvent.setup();
    let greeting = 'generated';
    // The upload is a raw audio body, sent with fetch itself (not the typed client).
    const uploads: Array<{ url: string; init: RequestInit | undefined }> = [];
    vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
      if (init?.method !== 'PUT') return new Response(null, { status: 404 });
      uploads.push({ url: String(input), init });
      greeting = 'uploaded';
      return new Response(null, { status: 204 });
    });
    const { requests } = renderApp('/portal/auto-attendants', (key, body) => {
      switch (key) {
        case 'GET /api/v1/auth/me':
          return { ...operator, role: 'customer', customerId: 'c1' };
        case 'GET /api/v1/auto-attendants':
          return list([{ ...main, greeting }]);
        case 'GET /api/v1/domains':
          return list([{ id: 'd1', name: 'voip.example.com', countryCode: null, selfSignup: false }]);
        case 'GET /api/v1/subscribers':
          return list([phone('s1', 'anna')]);
        case 'GET /api/v1/hunt-groups':
          return list([]);
        case 'POST /api/v1/auto-attendants':
          return [201, { ...main, id: 'a2', ...(body as object) }];
        case 'DELETE /api/v1/auto-attendants/a1/greeting':
          greeting = 'generated';
          return [204, {}];
        default:
          return undefined;
      }
    });
    const create = await screen.findByRole('form', { name: 'New auto-attendant' });
    await within(create).findByRole('option', { name: 'voip.example.com' });
    await user.selectOptions(within(create).getByLabelText('Domain'), 'd1');
    await user.type(within(create).getByLabelText('User name'), 'night');
    await user.type(within(create).getByLabelText('Name'), 'Night line');
    await user.selectOptions(within(create).getByLabelText('Digit 3'), 'number:');
    await user.type(within(create).getByLabelText('Digit 3: number'), '+4930123456');
    const timeout = 'No digit (timeout, e.g. the operator)';
    await user.selectOptions(within(create).getByLabelText(timeout), 'number:');
    await user.type(within(create).getByLabelText(`${timeout}: number`), '+4930999000');
    await user.click(within(create).getByRole('button', { name: 'Save auto-attendant' }));
    await waitFor(() => expect(requests.some((r) => r.method === 'POST')).toBe(true));
    expect(requests.find((r) => r.method === 'POST')?.body).toMatchObject({
      username: 'night',
      menu: [{ digit: '3', kind: 'number', target: '+4930123456' }],
      timeoutKind: 'number',
      timeoutTarget: '+4930999000',
    });

    await user.click(screen.getByRole('button', { name: 'Edit auto-attendant sip:main@voip.example.com' }));
    const edit = screen.getByRole('form', { name: 'Edit auto-attendant sip:main@voip.example.com' });
    expect(within(edit).getByText('The greeting text is spoken by the platform.')).toBeTruthy();
    const wav = new File([new Uint8Array([82, 73, 70, 70])], 'welcome.wav', { type: 'audio/wav' });
    const input = edit.querySelector<HTMLInputElement>('input[type="file"]');
    if (input === null) throw new Error('no file input');
    await user.upload(input, wav);
    await waitFor(() => expect(uploads).toHaveLength(1));
    expect(uploads[0]?.url).toBe('/api/v1/auto-attendants/a1/greeting');
    expect(uploads[0]?.init?.method).toBe('PUT');
    expect(uploads[0]?.init?.body).toBe(wav);
    expect(new Headers(uploads[0]?.init?.headers).get('content-type')).toBe('audio/wav');
    // The list reloads: the recording plays now, and can be swapped back for the spoken text.
    expect(await within(edit).findByText('The uploaded recording plays.')).toBeTruthy();
    await user.click(within(edit).getByRole('button', { name: 'Use the spoken greeting' }));
    await waitFor(() =>
      expect(
        requests.some((r) => r.method === 'DELETE' && r.path === '/api/v1/auto-attendants/a1/greeting'),
      ).toBe(true),
    );
    expect(await within(edit).findByText('The greeting text is spoken by the platform.')).toBeTruthy();
    // The edit panel stays open: neither button submitted the form.
    expect(requests.some((r) => r.method === 'PATCH')).toBe(false);
  });
});
