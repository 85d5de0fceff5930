import { screen, waitFor, within } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { operator, renderApp } from './render.tsx';

const settings = {
  subscriberId: 's1',
  enabled: false,
  pinSet: false,
  greeting: 'default',
  maxMessageSeconds: 120,
  maxMessages: 100,
  email: null,
  deleteAfterEmail: false,
  unsolicitedMwi: false,
};

function portal() {
  return renderApp('/portal/voicemail', (key) => {
    if (key === 'GET /api/v1/auth/me') return { ...operator, role: 'customer', customerId: 'c1' };
    if (key === 'GET /api/v1/subscribers')
      return { items: [{ id: 's1', username: 'alice', displayName: null }], page: 1, perPage: 100, total: 1 };
    if (key === 'GET /api/v1/subscribers/s1/voicemail') return settings;
    if (key === 'PATCH /api/v1/subscribers/s1/voicemail') return { ...settings, enabled: true, pinSet: true };
    if (key === 'GET /api/v1/voicemails')
      return {
        items: [
          {
            id: 'v1',
            subscriberId: 's1',
            customerId: 'c1',
            caller: 'sip:bob@voip.example.com',
            durationMs: 5200,
            heard: false,
            createdAt: '2026-02-01T10:00:00.000Z',
          },
        ],
        page: 1,
        perPage: 100,
        total: 1,
      };
    if (key.startsWith('GET /api/v1/')) return { items: [], page: 1, perPage: 25, total: 0 };
    return undefined;
  });
}

describe('portal voicemail', () => {
  it("lists a phone's messages with a player and a download through the authenticated audio route", async () => {
    portal();
    const table = await screen.findByRole('table', { name: 'Voicemail messages' });
    await within(table).findByText('5 s');
    const player = within(table).getByLabelText('Voicemail from sip:bob@voip.example.com');
    expect(player.getAttribute('src')).toBe('/api/v1/voicemails/v1/audio');
    expect(within(table).getByText('Download').getAttribute('href')).toBe(
      '/api/v1/voicemails/v1/audio?download=true',
    );
  });

  it('turns voicemail on with a PIN; a PIN that is not digits is refused before the API is called', async () => {
    const { requests } = portal();
    const user = userEvent.setup();
    const form = await screen.findByRole('form', { name: 'Voicemail settings' });
    await user.click(within(form).getByLabelText('Voicemail on'));
    await user.type(within(form).getByLabelText('PIN'), '12ab');
    await user.click(within(form).getByRole('button', { name: 'Save' }));
    expect(await within(form).findByText('4 to 12 digits')).toBeTruthy();
    expect(requests.some((r) => r.method === 'PATCH')).toBe(false);
    await user.clear(within(form).getByLabelText('PIN'));
    await user.type(within(form).getByLabelText('PIN'), '2468');
    await user.click(within(form).getByLabelText(/unsolicited MWI/));
    await user.click(within(form).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(requests.some((r) => r.method === 'PATCH')).toBe(true));
    const patch = requests.find((r) => r.method === 'PATCH');
    expect(patch?.path).toBe('/api/v1/subscribers/s1/voicemail');
    expect(patch?.body).toMatchObject({ enabled: true, pin: '2468', unsolicitedMwi: true });
  });
});
