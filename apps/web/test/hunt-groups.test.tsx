import { screen, waitFor, within } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { operator, renderApp } from './render.tsx';

const list = <T,>(items: T[]) => ({ items, page: 1, perPage: 50, total: items.length });
const phone = (id: string, user: string) => ({ id, sipUri: `sip:${user}@voip.example.com`, username: user });
const sales = {
  id: 'h1',
  customerId: 'c1',
  domainId: 'd1',
  username: 'sales',
  name: 'Sales',
  strategy: 'parallel',
  ringTimeout: 20,
  noAnswerKind: null,
  noAnswerDestination: null,
  enabled: true,
  sipUri: 'sip:sales@voip.example.com',
  members: [
    { subscriberId: 's1', position: 0 },
    { subscriberId: 's2', position: 1 },
  ],
  createdAt: '',
  updatedAt: '',
};

describe('hunt groups in the customer portal', () => {
  it('creates a group with its members in the order ticked, and edits one', async () => {
    const user = userEvent.setup();
    const { requests } = renderApp('/portal/hunt-groups', (key, body) => {
      switch (key) {
        case 'GET /api/v1/auth/me':
          return { ...operator, role: 'customer', customerId: 'c1' };
        case 'GET /api/v1/hunt-groups':
          return list([sales]);
        case 'GET /api/v1/domains':
          return list([{ id: 'd1', name: 'voip.example.com', countryCode: null, selfSignup: false }]);
        case 'GET /api/v1/subscribers':
          return list([phone('s1', 'anna'), phone('s2', 'ben'), phone('s3', 'cleo')]);
        case 'POST /api/v1/hunt-groups':
          return [201, { ...sales, id: 'h2', ...(body as object) }];
        case 'PATCH /api/v1/hunt-groups/h1':
          return { ...sales, ...(body as object) };
        default:
          return undefined;
      }
    });
    expect(await screen.findByRole('cell', { name: 'sip:sales@voip.example.com' })).toBeTruthy();
    const create = screen.getByRole('form', { name: 'New hunt group' });
    // A customer creates groups for itself: no customer choice.
    expect(within(create).queryByLabelText('Customer')).toBeNull();
    await within(create).findByRole('option', { name: 'voip.example.com' });
    await user.selectOptions(within(create).getByLabelText('Domain'), 'd1');
    await user.type(within(create).getByLabelText('User name'), 'support');
    await user.type(within(create).getByLabelText('Name'), 'Support');
    await user.selectOptions(within(create).getByLabelText('Ring'), 'sequential');
    await user.type(within(create).getByLabelText('When nobody answers'), '0301234');
    await user.click(await within(create).findByLabelText('sip:cleo@voip.example.com'));
    await user.click(within(create).getByLabelText('sip:anna@voip.example.com'));
    expect(
      within(create).getByText('Ring order: sip:cleo@voip.example.com, sip:anna@voip.example.com'),
    ).toBeTruthy();
    await user.click(within(create).getByRole('button', { name: 'Save hunt group' }));
    await waitFor(() => expect(requests.some((r) => r.method === 'POST')).toBe(true));
    expect(requests.find((r) => r.method === 'POST')?.body).toEqual({
      domainId: 'd1',
      username: 'support',
      name: 'Support',
      strategy: 'sequential',
      ringTimeout: 20,
      members: ['s3', 's1'],
      noAnswerKind: 'number',
      noAnswerDestination: '0301234',
    });

    await user.click(screen.getByRole('button', { name: 'Edit hunt group sip:sales@voip.example.com' }));
    const edit = screen.getByRole('form', { name: 'Edit hunt group sip:sales@voip.example.com' });
    await user.click(await within(edit).findByLabelText('sip:anna@voip.example.com'));
    await user.selectOptions(within(edit).getByLabelText('Ring'), 'round_robin');
    await user.type(within(edit).getByLabelText('When nobody answers'), 'sip:desk@voip.example.com');
    await user.click(within(edit).getByRole('button', { name: 'Save changes' }));
    await waitFor(() => expect(requests.some((r) => r.method === 'PATCH')).toBe(true));
    expect(requests.find((r) => r.method === 'PATCH')?.body).toEqual({
      name: 'Sales',
      strategy: 'round_robin',
      ringTimeout: 20,
      enabled: true,
      members: ['s2'],
      noAnswerKind: 'uri',
      noAnswerDestination: 'sip:desk@voip.example.com',
    });
  });

  it('refuses a no-answer destination that is neither a number nor an address, without calling the API', async () => {
    const user = userEvent.setup();
    const { requests } = renderApp('/admin/hunt-groups', (key) => {
      if (key === 'GET /api/v1/auth/me') return operator;
      if (key === 'GET /api/v1/hunt-groups') return list([]);
      if (key === 'GET /api/v1/customers') return list([{ id: 'c1', name: 'Acme', status: 'active' }]);
      if (key === 'GET /api/v1/domains') return list([{ id: 'd1', name: 'voip.example.com' }]);
      if (key === 'GET /api/v1/subscribers') return list([phone('s1', 'anna')]);
      return undefined;
    });
    const create = await screen.findByRole('form', { name: 'New hunt group' });
    await within(create).findByRole('option', { name: 'Acme' });
    await user.selectOptions(within(create).getByLabelText('Customer'), 'c1');
    await user.selectOptions(within(create).getByLabelText('Domain'), 'd1');
    await user.type(within(create).getByLabelText('User name'), 'night');
    await user.type(within(create).getByLabelText('Name'), 'Night');
    await user.type(within(create).getByLabelText('When nobody answers'), 'two words');
    await user.click(within(create).getByRole('button', { name: 'Save hunt group' }));
    expect(await within(create).findByText('A phone number, a sip: address or a user name')).toBeTruthy();
    expect(requests.some((r) => r.method === 'POST')).toBe(false);
  });
});
