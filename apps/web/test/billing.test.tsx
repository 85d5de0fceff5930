import { screen, within } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { operator, renderApp } from './render.tsx';

/** The billing page and rated prices in the call lists, against answers shaped like the API's. */

const emptyList = { items: [], page: 1, perPage: 50, total: 0 };

const cdr = {
  id: 'x1',
  callId: 'call-x1',
  direction: 'outbound',
  callerDialled: '1001',
  calleeDialled: '06641234567',
  callerRouted: '4311001',
  calleeRouted: '436641234567',
  callerWithheld: false,
  startedAt: '2026-02-01T10:00:00.000Z',
  answeredAt: '2026-02-01T10:00:02.000Z',
  endedAt: '2026-02-01T10:01:02.000Z',
  durationMs: 60_000,
  disposition: 'answered',
  sipCode: 200,
  sipReason: null,
  callerSubscriberId: null,
  calleeSubscriberId: null,
  callerCustomerId: 'c1',
  calleeCustomerId: null,
  peerGatewayId: 'g1',
  forwardedFrom: null,
  forwardType: null,
  pushWaitMs: null,
  node: null,
  ratingStatus: 'rated',
  ratingError: null,
  ratedAt: '2026-02-01T10:01:03.000Z',
  customerPrice: '0.310000',
  customerCurrency: 'EUR',
  customerZone: 'Austria mobile',
  resellerPrice: '0.040000',
  resellerCurrency: 'EUR',
  resellerZone: 'Austria',
  carrierCost: '0.012000',
  carrierCurrency: 'EUR',
  carrierZone: 'Austria',
};

describe('rated prices in the call lists', () => {
  it('shows the operator all three, the customer its price only', async () => {
    const admin = renderApp('/admin/cdrs', (key) => {
      if (key === 'GET /api/v1/auth/me') return operator;
      if (key === 'GET /api/v1/cdrs') return { ...emptyList, items: [cdr], total: 1 };
      if (key.startsWith('GET /api/v1/')) return emptyList;
      return undefined;
    });
    expect(await screen.findByText('0.31 EUR')).toBeTruthy();
    expect(screen.getByText('0.04 EUR')).toBeTruthy();
    expect(screen.getByText('0.012 EUR')).toBeTruthy();
    expect(screen.getByRole('columnheader', { name: 'Carrier cost' })).toBeTruthy();
    admin.unmount();

    renderApp('/portal/history', (key) => {
      if (key === 'GET /api/v1/auth/me') return { ...operator, role: 'customer', customerId: 'c1' };
      if (key === 'GET /api/v1/cdrs')
        return {
          ...emptyList,
          items: [
            { ...cdr, resellerPrice: null, carrierCost: null },
            { ...cdr, id: 'x2', ratingStatus: 'unrated', customerPrice: null },
          ],
          total: 2,
        };
      if (key.startsWith('GET /api/v1/')) return emptyList;
      return undefined;
    });
    expect(await screen.findByText('0.31 EUR')).toBeTruthy();
    expect(screen.getByText('pending')).toBeTruthy();
    expect(screen.queryByRole('columnheader', { name: 'Carrier cost' })).toBeNull();
    expect(screen.queryByText('0.012 EUR')).toBeNull();
  });
});

describe('billing page', () => {
  it('checks a deck and lists its row errors before anything is imported', async () => {
    const user = userEvent.setup();
    const profile = {
      id: 'p1',
      name: 'Retail',
      kind: 'sell',
      currency: 'EUR',
      timeZone: 'Europe/Vienna',
      description: null,
      peakTimes: [],
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
    };
    const { requests } = renderApp('/admin/billing', (key) => {
      if (key === 'GET /api/v1/auth/me') return operator;
      if (key === 'GET /api/v1/billing-profiles') return { ...emptyList, items: [profile], total: 1 };
      if (key === 'POST /api/v1/billing-profiles/p1/decks/import')
        return {
          applied: false,
          rows: 2,
          valid: 1,
          zones: 1,
          errors: [{ row: 3, column: 'peak_rate', message: 'must not be negative' }],
        };
      if (key.startsWith('GET /api/v1/')) return emptyList;
      return undefined;
    });
    await user.click(await screen.findByRole('button', { name: 'Rates of Retail' }));
    const file = new File(['prefix,zone,peak_rate\n43,Austria,0.1\n44,UK,-1\n'], 'deck.csv', {
      type: 'text/csv',
    });
    // Mantine's FileInput is a button over a hidden file input: upload to the input.
    const input = document.querySelector<HTMLInputElement>('input[type="file"]');
    if (input === null) throw new Error('no file input');
    await user.upload(input, file);
    await user.type(screen.getByLabelText('Effective from'), '2026-03-01T00:00');
    await user.click(screen.getByRole('button', { name: 'Check' }));
    const errors = await screen.findByRole('table', { name: 'Row errors' });
    expect(within(errors).getByText('must not be negative')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Import as new version' })).toHaveProperty('disabled', true);
    const post = requests.find((r) => r.method === 'POST');
    expect(post?.body).toMatchObject({
      csv: expect.stringContaining('44,UK,-1'),
      apply: false,
      name: 'deck.csv',
    });
  });
});
