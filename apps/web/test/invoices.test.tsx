import { screen, waitFor, within } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { operator, renderApp } from './render.tsx';

/** Invoices in the portal and the admin, and route statistics, against answers shaped like the API's. */

const emptyList = { items: [], page: 1, perPage: 50, total: 0 };
const customer = { ...operator, role: 'customer', customerId: 'c1', email: 'me@example.com' };
const invoice = {
  id: '0190a000-0000-7000-8000-000000000001',
  number: '2026-000007',
  customerId: 'c1',
  resellerId: null,
  periodStart: '2026-11-01T00:00:00.000Z',
  periodEnd: '2026-12-01T00:00:00.000Z',
  currency: 'EUR',
  total: '14.814720',
  net: '12.345600',
  tax: '2.469120',
  taxes: [{ rate: '20.00', base: '12.345600', amount: '2.469120' }],
  customerTaxId: null,
  issuerTaxId: null,
  credited: '1.200000',
  lines: [
    { kind: 'calls', description: 'Austria', quantity: 3, seconds: 291, amount: '12.345600', taxed: true },
  ],
  createdAt: '2026-12-01T01:00:00.000Z',
};
const creditNote = {
  id: '0190a000-0000-7000-8000-0000000000c1',
  number: 'CN-2026-000003',
  invoiceId: invoice.id,
  invoiceNumber: invoice.number,
  customerId: 'c1',
  resellerId: null,
  currency: 'EUR',
  total: '1.200000',
  net: '1.000000',
  tax: '0.200000',
  taxRate: '20.00',
  reason: 'Dropped calls',
  balanceCredited: true,
  createdAt: '2026-12-02T01:00:00.000Z',
};

describe('invoices', () => {
  it('the portal lists the customer’s invoices with their PDF', async () => {
    renderApp('/portal/invoices', (key) => {
      if (key === 'GET /api/v1/auth/me') return customer;
      if (key === 'GET /api/v1/invoices') return { ...emptyList, items: [invoice], total: 1 };
      if (key === 'GET /api/v1/credit-notes') return { ...emptyList, items: [creditNote], total: 1 };
      if (key.startsWith('GET /api/v1/')) return emptyList;
      return undefined;
    });
    expect(await screen.findByText('2026-000007')).toBeTruthy();
    expect(screen.getByText('14.814720 EUR')).toBeTruthy();
    expect(screen.getByText('2.469120 (20.00 %)')).toBeTruthy();
    expect(await screen.findByText('CN-2026-000003')).toBeTruthy();
    expect(screen.getByText('Dropped calls')).toBeTruthy();
    expect(screen.getAllByRole('link', { name: 'PDF' }).map((a) => a.getAttribute('href'))).toEqual([
      `/api/v1/invoices/${invoice.id}/pdf`,
      `/api/v1/credit-notes/${creditNote.id}/pdf`,
    ]);
    expect(screen.queryByRole('form', { name: 'Generate invoices' })).toBeNull();
    expect(screen.queryByRole('form', { name: 'Issue a credit note' })).toBeNull();
  });

  it('a provider credits an invoice in full or by an amount', async () => {
    const view = renderApp('/admin/invoices', (key) => {
      if (key === 'GET /api/v1/auth/me') return operator;
      if (key === 'GET /api/v1/invoices') return { ...emptyList, items: [invoice], total: 1 };
      if (key === `POST /api/v1/invoices/${invoice.id}/credit-notes`) return creditNote;
      if (key.startsWith('GET /api/v1/')) return emptyList;
      return undefined;
    });
    const form = await screen.findByRole('form', { name: 'Issue a credit note' });
    await userEvent.click(within(form).getByLabelText('Invoice'));
    await userEvent.click(await screen.findByText('2026-000007 (14.814720 EUR, credited 1.200000)'));
    await userEvent.type(within(form).getByLabelText(/Reason/), 'Dropped calls');
    await userEvent.click(within(form).getByLabelText('Credit the prepaid balance'));
    await userEvent.click(within(form).getByRole('button', { name: 'Issue' }));
    expect(await screen.findByText('CN-2026-000003: 1.200000 EUR credited')).toBeTruthy();
    await userEvent.type(within(form).getByLabelText('Amount (tax included)'), '0.50');
    await userEvent.click(within(form).getByRole('button', { name: 'Issue' }));
    await waitFor(() => expect(view.requests.filter((r) => r.method === 'POST')).toHaveLength(2));
    expect(view.requests.filter((r) => r.method === 'POST').map((r) => r.body)).toEqual([
      { full: true, reason: 'Dropped calls', creditBalance: true },
      { amount: '0.50', reason: 'Dropped calls', creditBalance: true },
    ]);
  });

  it('the operator generates a month', async () => {
    const view = renderApp('/admin/invoices', (key) => {
      if (key === 'GET /api/v1/auth/me') return operator;
      if (key === 'POST /api/v1/invoices/generate') return { created: [invoice.id], skipped: 0 };
      if (key.startsWith('GET /api/v1/')) return emptyList;
      return undefined;
    });
    await userEvent.type(await screen.findByLabelText('Month'), '2026-11');
    await userEvent.click(screen.getByRole('button', { name: 'Generate' }));
    expect(await screen.findByText('1 created, 0 skipped')).toBeTruthy();
    expect(view.requests.find((r) => r.method === 'POST')?.body).toEqual({ month: '2026-11' });
  });

  it('route statistics show ASR, ACD and NER', async () => {
    renderApp('/admin/route-stats', (key) => {
      if (key === 'GET /api/v1/auth/me') return operator;
      if (key === 'GET /api/v1/route-stats')
        return {
          items: [
            {
              id: 'g1',
              name: 'gw-a',
              groupId: 'p1',
              attempts: 4,
              answered: 2,
              asr: 0.5,
              acdSeconds: 45,
              ner: 0.75,
              minutes: 1.5,
            },
          ],
        };
      if (key.startsWith('GET /api/v1/')) return emptyList;
      return undefined;
    });
    expect(await screen.findByText('gw-a')).toBeTruthy();
    expect(screen.getByText('50.0 %')).toBeTruthy();
    expect(screen.getByText('45.0 s')).toBeTruthy();
    expect(screen.getByText('75.0 %')).toBeTruthy();
  });

  it('a provider sets a customer’s credit limit, margin protection and tax', async () => {
    const view = renderApp('/admin/wholesale', (key, body) => {
      if (key === 'GET /api/v1/auth/me') return operator;
      if (key === 'GET /api/v1/customers')
        return { ...emptyList, items: [{ id: 'c1', name: 'Carrier One' }], total: 1 };
      if (key === 'GET /api/v1/customers/c1/billing-settings')
        return {
          customerId: 'c1',
          creditLimit: null,
          carrier: true,
          marginProtection: null,
          peeringGroupIds: ['p1'],
          taxRate: null,
          taxId: 'ATU1',
        };
      if (key === 'PUT /api/v1/customers/c1/billing-settings')
        return { customerId: 'c1', ...(body as object) };
      if (key === 'GET /api/v1/customer-trunks')
        return {
          items: [
            {
              id: 't1',
              customerId: 'c1',
              subscriberId: 's1',
              name: 'pbx',
              trustedSources: ['192.0.2.10', '198.51.100.0/24'],
              enabled: true,
              createdAt: '2026-12-01T00:00:00Z',
              updatedAt: '2026-12-01T00:00:00Z',
            },
          ],
        };
      if (key.startsWith('GET /api/v1/')) return emptyList;
      return undefined;
    });
    expect(await screen.findByText('192.0.2.10, 198.51.100.0/24')).toBeTruthy();
    await userEvent.type(await screen.findByLabelText('Monthly credit limit'), '250');
    await userEvent.selectOptions(screen.getByLabelText('Margin protection'), 'off');
    await userEvent.type(screen.getByLabelText('Tax rate (%)'), '20');
    expect((screen.getByLabelText('Tax id (VAT)') as HTMLInputElement).value).toBe('ATU1');
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() =>
      expect(view.requests.find((r) => r.method === 'PUT')?.body).toEqual({
        creditLimit: '250',
        carrier: true,
        marginProtection: false,
        peeringGroupIds: ['p1'],
        taxRate: '20',
        taxId: 'ATU1',
      }),
    );
  });
});
