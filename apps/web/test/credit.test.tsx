import { screen } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { operator, renderApp } from './render.tsx';

/** The portal's credit page against answers shaped like the API's: balance, history, redeeming a voucher. */

const credit = {
  customerId: 'c1',
  prepaid: true,
  balance: '4.500000',
  reserved: '0.300000',
  lowBalanceThreshold: '1.000000',
  notifyEmail: null,
  webhookUrl: null,
  dailyLimit: '20.000000',
  monthlyLimit: null,
  limitWarnPercent: 80,
  blockedUntil: null,
};

describe('portal credit page', () => {
  it('shows the balance and history and redeems a voucher code', async () => {
    const user = userEvent.setup();
    const { requests } = renderApp('/portal/credit', (key) => {
      if (key === 'GET /api/v1/auth/me') return { ...operator, role: 'customer', customerId: 'c1' };
      if (key === 'GET /api/v1/customers/c1/credit') return credit;
      if (key === 'GET /api/v1/customers/c1/credit/top-ups')
        return {
          items: [
            {
              id: 't1',
              customerId: 'c1',
              kind: 'voucher',
              amount: '5.000000',
              balanceAfter: '5.000000',
              voucherId: 'v1',
              note: null,
              createdAt: '2026-02-01T10:00:00.000Z',
            },
          ],
        };
      if (key === 'GET /api/v1/customers/c1/credit/events')
        return {
          items: [
            {
              id: 'e1',
              kind: 'new-zone',
              detail: { zone: 'Germany' },
              createdAt: '2026-02-01T11:00:00.000Z',
              deliveredAt: null,
            },
          ],
        };
      if (key === 'POST /api/v1/vouchers/redeem') return { topUp: {}, balance: '9.500000' };
      return undefined;
    });
    expect(await screen.findByText('4.500000')).toBeTruthy();
    expect(screen.getByText('prepaid')).toBeTruthy();
    // The voucher's amount and the balance after it.
    expect(await screen.findAllByText('5.000000')).toHaveLength(2);
    expect(await screen.findByText('new-zone')).toBeTruthy();
    await user.type(screen.getByLabelText('Voucher code'), 'ABCD-EFGH-JKMN-PQRS');
    await user.click(screen.getByRole('button', { name: 'Redeem' }));
    await expect
      .poll(() => requests.find((r) => r.method === 'POST' && r.path === '/api/v1/vouchers/redeem')?.body)
      .toEqual({ code: 'ABCD-EFGH-JKMN-PQRS' });
  });
});
