import { screen, waitFor, within } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { operator, renderApp } from './render.tsx';

const list = <T,>(items: T[]) => ({ items, page: 1, perPage: 50, total: items.length });
const number = {
  id: 'n1',
  subscriberId: 's1',
  huntGroupId: null,
  autoAttendantId: null,
  e164: '+4930555000',
  countryCode: '49',
  areaCode: '30',
  subscriberNumber: '555000',
  isPrimary: true,
  createdAt: '',
  updatedAt: '',
};

describe('numbers in the admin', () => {
  it('a number rings an auto-attendant: chosen when adding and when editing, shown in the list', async () => {
    const user = userEvent.setup();
    const { requests } = renderApp('/admin/numbers', (key, body) => {
      switch (key) {
        case 'GET /api/v1/auth/me':
          return operator;
        case 'GET /api/v1/numbers':
          return list([
            number,
            {
              ...number,
              id: 'n2',
              subscriberId: null,
              autoAttendantId: 'a1',
              e164: '+4930555100',
              isPrimary: false,
            },
          ]);
        case 'GET /api/v1/subscribers':
          return list([{ id: 's1', sipUri: 'sip:anna@voip.example.com' }]);
        case 'GET /api/v1/hunt-groups':
          return list([{ id: 'h1', sipUri: 'sip:sales@voip.example.com' }]);
        case 'GET /api/v1/auto-attendants':
          return list([{ id: 'a1', sipUri: 'sip:main@voip.example.com' }]);
        case 'POST /api/v1/numbers':
          return [201, { ...number, id: 'n3', ...(body as object) }];
        case 'PATCH /api/v1/numbers/n1':
          return { ...number, ...(body as object) };
        default:
          return undefined;
      }
    });
    expect(
      await screen.findByRole('cell', { name: 'Auto-attendant sip:main@voip.example.com' }),
    ).toBeTruthy();
    const create = screen.getByRole('form', { name: 'New number' });
    await within(create).findByRole('option', { name: 'Auto-attendant sip:main@voip.example.com' });
    await user.selectOptions(within(create).getByLabelText('Rings'), 'a:a1');
    await user.type(within(create).getByLabelText('Country code'), '49');
    await user.type(within(create).getByLabelText('Area code'), '30');
    await user.type(within(create).getByLabelText('Subscriber number'), '555101');
    // "Primary" is a subscriber's matter: not sent for an attendant's number.
    await user.selectOptions(within(create).getByLabelText('Primary number'), 'yes');
    await user.click(within(create).getByRole('button', { name: 'Add number' }));
    await waitFor(() => expect(requests.some((r) => r.method === 'POST')).toBe(true));
    const posted = requests.find((r) => r.method === 'POST')?.body;
    expect(posted).toEqual({
      autoAttendantId: 'a1',
      countryCode: '49',
      areaCode: '30',
      subscriberNumber: '555101',
    });

    await user.click(screen.getByRole('button', { name: 'Edit +4930555000' }));
    const edit = screen.getByRole('form', { name: 'Edit number +4930555000' });
    await user.selectOptions(within(edit).getByLabelText('Rings'), 'a:a1');
    await user.click(within(edit).getByRole('button', { name: /save/i }));
    await waitFor(() => expect(requests.some((r) => r.method === 'PATCH')).toBe(true));
    expect(requests.find((r) => r.method === 'PATCH')?.body).toEqual({ autoAttendantId: 'a1' });
  });
});
