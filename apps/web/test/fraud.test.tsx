import { screen, within } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { operator, renderApp } from './render.tsx';

/**
 * The admin's fraud limits page against answers shaped like the API's: the operator edits the
 * high-risk list and a customer's screening and spend limits and sees its alerts; a reseller only
 * reads the list.
 */

const list = (items: unknown[]) => ({ items, page: 1, perPage: 500, total: items.length });
const credit = {
  customerId: 'c1',
  prepaid: false,
  balance: '0.000000',
  reserved: '0.000000',
  lowBalanceThreshold: null,
  notifyEmail: null,
  webhookUrl: null,
  dailyLimit: null,
  monthlyLimit: null,
  limitWarnPercent: 80,
  blockedUntil: null,
  highRiskAction: 'alert',
  burstCalls: null,
  burstSeconds: null,
};
const prefixes = {
  items: [{ prefix: '882', note: 'satellite', createdAt: '2026-12-01T10:00:00.000Z' }],
};

function answers(me: object) {
  return (key: string, body: unknown) => {
    if (key === 'GET /api/v1/auth/me') return me;
    if (key === 'GET /api/v1/high-risk-prefixes') return prefixes;
    if (key === 'POST /api/v1/high-risk-prefixes') return [201, { ...(body as object), createdAt: '' }];
    if (key === 'DELETE /api/v1/high-risk-prefixes/882') return [204, null];
    if (key === 'GET /api/v1/customers') return list([{ id: 'c1', name: 'Acme' }]);
    if (key === 'GET /api/v1/customers/c1/credit') return credit;
    if (key === 'PATCH /api/v1/customers/c1/credit') return { ...credit, ...(body as object) };
    if (key === 'GET /api/v1/customers/c1/credit/events')
      return {
        items: [
          {
            id: 'e1',
            kind: 'high-risk-call',
            detail: { prefix: '882', action: 'blocked' },
            createdAt: '2026-12-05T10:00:00.000Z',
            deliveredAt: null,
          },
        ],
      };
    if (key === 'GET /api/v1/subscribers') return list([{ id: 's1', username: 'dave' }]);
    if (key === 'GET /api/v1/subscribers/s1/spend-limit')
      return {
        subscriberId: 's1',
        dailyLimit: null,
        monthlyLimit: null,
        limitWarnPercent: 80,
        blockedUntil: null,
      };
    if (key === 'PATCH /api/v1/subscribers/s1/spend-limit')
      return { subscriberId: 's1', ...(body as object) };
    return undefined;
  };
}

describe('fraud limits page', () => {
  it('the operator edits the high-risk list and a customer’s screening, limits and sees its alerts', async () => {
    const user = userEvent.setup();
    const { requests } = renderApp('/admin/fraud', answers(operator));
    const table = await screen.findByRole('table', { name: 'High-risk prefixes' });
    expect(await within(table).findByText('+882')).toBeTruthy();
    expect(within(table).getByText('satellite')).toBeTruthy();

    await user.type(screen.getByLabelText('Prefix'), '53');
    await user.type(screen.getByLabelText('Note'), 'Cuba');
    await user.click(screen.getByRole('button', { name: 'Add prefix' }));
    await expect
      .poll(() => requests.find((r) => r.method === 'POST' && r.path === '/api/v1/high-risk-prefixes')?.body)
      .toEqual({ prefix: '53', note: 'Cuba' });
    await user.click(screen.getByRole('button', { name: 'Remove +882' }));
    await expect
      .poll(() => requests.some((r) => r.method === 'DELETE' && r.path === '/api/v1/high-risk-prefixes/882'))
      .toBe(true);

    await screen.findByRole('option', { name: 'Acme' });
    await user.selectOptions(screen.getByLabelText('Customer'), 'c1');
    await user.selectOptions(await screen.findByLabelText('Calls to high-risk destinations'), 'block');
    await user.type(screen.getByLabelText('Burst alert above (calls)'), '20');
    await user.type(screen.getByLabelText('Burst window (seconds)'), '60');
    await user.type(screen.getByLabelText('Daily spend limit'), '10.00');
    await user.click(screen.getByRole('button', { name: 'Save fraud limits' }));
    await expect
      .poll(
        () => requests.find((r) => r.method === 'PATCH' && r.path === '/api/v1/customers/c1/credit')?.body,
      )
      .toEqual({
        highRiskAction: 'block',
        burstCalls: 20,
        burstSeconds: 60,
        dailyLimit: '10.00',
        monthlyLimit: null,
        limitWarnPercent: 80,
      });
    expect(await screen.findByText('high-risk-call')).toBeTruthy();

    await screen.findByRole('option', { name: 'dave' });
    await user.selectOptions(screen.getByLabelText('Subscriber'), 's1');
    await user.type(await screen.findByLabelText("Subscriber's monthly limit"), '30');
    await user.click(screen.getByRole('button', { name: 'Save subscriber limits' }));
    await expect
      .poll(
        () =>
          requests.find((r) => r.method === 'PATCH' && r.path === '/api/v1/subscribers/s1/spend-limit')?.body,
      )
      .toEqual({ dailyLimit: null, monthlyLimit: '30' });
  });

  it('a reseller reads the high-risk list but cannot change it', async () => {
    renderApp('/admin/fraud', answers({ ...operator, role: 'reseller', resellerId: 'r1' }));
    const table = await screen.findByRole('table', { name: 'High-risk prefixes' });
    expect(await within(table).findByText('+882')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Add prefix' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Remove +882' })).toBeNull();
  });
});
