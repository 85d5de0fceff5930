import { screen, waitFor, within } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { NumberEditForm } from '../src/pages/admin/Numbers.tsx';
import { operator, renderApp } from './render.tsx';

const settings = {
  recordingMode: 'off',
  recordingAnnouncement: false,
  recordingRetentionDays: null,
  recordingWebhookUrl: null,
  recordingWebhookSecretSet: false,
};
const list = <T,>(items: T[]) => ({ items, page: 1, perPage: 50, total: items.length });

describe('call recordings in the customer portal', () => {
  it('lists the recordings, plays one from the authenticated audio route, saves the settings', async () => {
    const user = userEvent.setup();
    const { requests } = renderApp('/portal/recordings', (key, body) => {
      switch (key) {
        case 'GET /api/v1/auth/me':
          return { ...operator, role: 'customer', customerId: 'c1' };
        case 'GET /api/v1/customers/c1/recording-settings':
          return settings;
        case 'PATCH /api/v1/customers/c1/recording-settings':
          return { ...settings, ...(body as object) };
        case 'GET /api/v1/recordings':
          return list([
            {
              id: 'r1',
              cdrId: 'cdr1',
              customerId: 'c1',
              subscriberId: 's1',
              durationMs: 65_000,
              sizeBytes: 2_080_044,
              createdAt: '2026-12-05T06:00:00.000Z',
            },
          ]);
        default:
          return undefined;
      }
    });
    expect(await screen.findByRole('cell', { name: '2031 KiB' })).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Download' }).getAttribute('href')).toBe(
      '/api/v1/recordings/r1/audio',
    );
    await user.click(screen.getByRole('button', { name: 'Play' }));
    const audio = document.querySelector('audio');
    expect(audio?.getAttribute('src')).toBe('/api/v1/recordings/r1/audio');

    const form = await screen.findByRole('form', { name: 'Recording settings' });
    await user.selectOptions(within(form).getByLabelText('Record calls'), 'always');
    await user.type(within(form).getByLabelText('Keep for days (empty: until deleted)'), '90');
    await user.click(within(form).getByRole('button', { name: 'Save' }));
    await waitFor(() =>
      expect(
        requests.find((r) => r.method === 'PATCH' && r.path === '/api/v1/customers/c1/recording-settings')
          ?.body,
      ).toEqual({
        recordingMode: 'always',
        recordingAnnouncement: false,
        recordingRetentionDays: 90,
      }),
    );
  });
});

describe('numbers pointing at a hunt group', () => {
  it('the edit form takes a subscriber or a hunt group, nothing else', () => {
    expect(NumberEditForm.safeParse({ subscriberId: 'h:g1', isPrimary: false }).success).toBe(true);
    expect(NumberEditForm.safeParse({ subscriberId: 's:s1', isPrimary: true }).success).toBe(true);
    expect(NumberEditForm.safeParse({ subscriberId: 'g1', isPrimary: false }).success).toBe(false);
  });
});
