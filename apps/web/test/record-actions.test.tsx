import { screen, waitFor, within } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { operator, renderApp } from './render.tsx';

const customer = (id: string, name: string) => ({
  id,
  resellerId: null,
  name,
  externalId: null,
  status: 'active',
  maxConcurrentCalls: null,
  maxSubscribers: null,
  maxCallDuration: null,
  createdAt: '2026-11-26T08:00:00Z',
  updatedAt: '2026-11-26T08:00:00Z',
});

describe('deleting records', () => {
  it('asks first, shows the dependants the API names, then deletes them too when confirmed', async () => {
    const user = userEvent.setup();
    let deleted = false;
    const { requests } = renderApp('/admin/customers', (key) => {
      if (key === 'GET /api/v1/auth/me') return operator;
      if (key === 'GET /api/v1/customers')
        return {
          items: deleted ? [] : [customer('c1', 'Acme')],
          page: 1,
          perPage: 25,
          total: deleted ? 0 : 1,
        };
      if (key === 'DELETE /api/v1/customers/c1')
        return [409, { title: 'Conflict', status: 409, dependants: { subscribers: 3, numbers: 2 } }];
      if (key === 'DELETE /api/v1/customers/c1?force=true') {
        deleted = true;
        return [204, null];
      }
      return undefined;
    });
    await user.click(await screen.findByRole('button', { name: 'Delete Acme' }));
    const dialog = await screen.findByRole('dialog', { name: 'Delete Acme?' });
    expect(requests.some((r) => r.method === 'DELETE')).toBe(false);
    await user.click(within(dialog).getByRole('button', { name: 'Delete' }));
    const list = await within(dialog).findByRole('list', { name: 'Dependent records' });
    expect(
      within(list)
        .getAllByRole('listitem')
        .map((li) => li.textContent),
    ).toEqual(['3 subscribers', '2 numbers']);
    await user.click(within(dialog).getByRole('button', { name: 'Delete with all dependants' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(requests.filter((r) => r.method === 'DELETE')).toHaveLength(2);
    expect(await screen.findByText('No customers yet.')).toBeTruthy();
  });

  it('disables the selected rows in bulk and shows the range of the page', async () => {
    const user = userEvent.setup();
    const { requests } = renderApp('/admin/customers', (key, body) => {
      if (key === 'GET /api/v1/auth/me') return operator;
      if (key === 'GET /api/v1/customers')
        return { items: [customer('c1', 'Acme'), customer('c2', 'Beta')], page: 1, perPage: 25, total: 30 };
      if (key.startsWith('PATCH /api/v1/customers/')) return { ...customer('x', 'x'), ...(body as object) };
      return undefined;
    });
    expect(await screen.findByText('1–25 of 30')).toBeTruthy();
    await user.click(screen.getByRole('checkbox', { name: 'Select Acme' }));
    await user.click(screen.getByRole('checkbox', { name: 'Select Beta' }));
    const bar = screen.getByRole('region', { name: 'Bulk actions' });
    expect(within(bar).getByText('2 selected')).toBeTruthy();
    await user.click(within(bar).getByRole('button', { name: 'Disable selected' }));
    await waitFor(() => expect(requests.filter((r) => r.method === 'PATCH')).toHaveLength(2));
    expect(requests.filter((r) => r.method === 'PATCH').map((r) => [r.path, r.body])).toEqual([
      ['/api/v1/customers/c1', { status: 'locked' }],
      ['/api/v1/customers/c2', { status: 'locked' }],
    ]);
    await waitFor(() => expect(screen.queryByRole('region', { name: 'Bulk actions' })).toBeNull());
  });
});
