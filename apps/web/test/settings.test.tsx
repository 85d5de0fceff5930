import { fireEvent, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { operator, renderApp } from './render.tsx';

function settings(rate: number, rateSource: string) {
  return {
    settings: [
      {
        key: 'access.rateLimitPerSecond',
        description: 'SIP requests per second per source address; 0: no limit',
        kind: 'integer',
        default: 50,
        value: rate,
        source: rateSource,
        variable: 'SIP_RATE_LIMIT',
        min: 0,
        max: 1_000_000,
      },
      {
        key: 'access.trustedSources',
        description: 'Addresses and CIDR blocks exempt from SIP rate limits and bans',
        kind: 'addresses',
        default: [],
        value: [],
        source: 'default',
        variable: 'SIP_TRUSTED_SOURCES',
      },
      {
        key: 'auth.strictUri',
        description: "Digest credentials' uri must designate the Request-URI, else 400",
        kind: 'boolean',
        default: false,
        value: true,
        source: 'environment',
        variable: 'SIP_AUTH_STRICT_URI',
      },
    ],
  };
}

describe('settings page', () => {
  it('shows default, current value and source, and sends a change, a list and a reset', async () => {
    let current = settings(50, 'default');
    const { requests } = renderApp('/admin/settings', (key, body) => {
      if (key === 'GET /api/v1/auth/me') return operator;
      if (key === 'GET /api/v1/settings') return current;
      if (key === 'PATCH /api/v1/settings') {
        const rate = (body as Record<string, unknown>)['access.rateLimitPerSecond'];
        if (rate !== undefined)
          current = settings(rate === null ? 50 : (rate as number), rate === null ? 'default' : 'database');
        return current;
      }
      return undefined;
    });
    const table = await screen.findByRole('table', { name: 'Settings' });
    const rateRow = (await within(table).findByText('access.rateLimitPerSecond')).closest('tr')!;
    expect(within(rateRow).getByText('default')).toBeTruthy();

    // The environment's setting is shown, not editable.
    const strictRow = within(table).getByText('auth.strictUri').closest('tr')!;
    expect(within(strictRow).getByText('environment')).toBeTruthy();
    expect(within(strictRow).getByText('fixed by SIP_AUTH_STRICT_URI')).toBeTruthy();
    expect(within(strictRow).queryByRole('button', { name: 'Save' })).toBeNull();

    fireEvent.change(within(rateRow).getByLabelText('access.rateLimitPerSecond'), { target: { value: '0' } });
    fireEvent.click(within(rateRow).getByRole('button', { name: 'Save' }));
    await within(rateRow).findByText('database');
    expect(requests.filter((r) => r.method === 'PATCH').map((r) => r.body)).toEqual([
      { 'access.rateLimitPerSecond': 0 },
    ]);

    const trustedRow = within(table).getByText('access.trustedSources').closest('tr')!;
    fireEvent.change(within(trustedRow).getByLabelText('access.trustedSources'), {
      target: { value: '127.0.0.0/8, 192.0.2.7' },
    });
    fireEvent.click(within(trustedRow).getByRole('button', { name: 'Save' }));

    fireEvent.click(await within(rateRow).findByRole('button', { name: 'Reset' }));
    await within(rateRow).findByText('default');
    expect(requests.filter((r) => r.method === 'PATCH').map((r) => r.body)).toEqual([
      { 'access.rateLimitPerSecond': 0 },
      { 'access.trustedSources': ['127.0.0.0/8', '192.0.2.7'] },
      { 'access.rateLimitPerSecond': null },
    ]);
  });

  it('shows the problem the API names', async () => {
    renderApp('/admin/settings', (key) => {
      if (key === 'GET /api/v1/auth/me') return operator;
      if (key === 'GET /api/v1/settings') return settings(50, 'default');
      if (key === 'PATCH /api/v1/settings')
        return [
          400,
          {
            title: 'Bad Request',
            status: 400,
            errors: [{ field: '/body/access.rateLimitPerSecond', message: 'expected an integer 0-1000000' }],
          },
        ];
      return undefined;
    });
    const row = (await screen.findByText('access.rateLimitPerSecond')).closest('tr')!;
    fireEvent.change(within(row).getByLabelText('access.rateLimitPerSecond'), { target: { value: '-5' } });
    fireEvent.click(within(row).getByRole('button', { name: 'Save' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('access.rateLimitPerSecond: expected an integer 0-1000000');
  });
});
