import { screen, waitFor, within } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
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
});
