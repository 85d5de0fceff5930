import { screen, waitFor, within } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { operator, renderApp } from './render.tsx';

const settings = {
  subscriberId: 's1',
  enabled: false,
  pinSet: false,
  greeting: 'default',
  greetings: { unavailable: 'default', busy: 'default' },
  maxMessageSeconds: 120,
  maxMessages: 100,
  email: null,
  deleteAfterEmail: false,
  unsolicitedMwi: false,
};

function portal(answer: (key: string) => unknown = () => undefined) {
  return renderApp('/portal/voicemail', (key) => {
    const own = answer(key);
    if (own !== undefined) return own;
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

  it('uploads the busy greeting apart from the unavailable one and resets only that one', async () => {
    const user = userEvent.setup();
    let busy = 'default';
    // The upload is a raw audio body, sent with fetch itself (not the typed client).
    const uploads: Array<{ url: string; init: RequestInit | undefined }> = [];
    vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
      if (init?.method !== 'PUT') return new Response(null, { status: 404 });
      uploads.push({ url: String(input), init });
      busy = 'uploaded';
      return new Response(null, { status: 204 });
    });
    const { requests } = portal((key) => {
      if (key === 'GET /api/v1/subscribers/s1/voicemail')
        return { ...settings, greetings: { unavailable: 'default', busy } };
      if (key === 'DELETE /api/v1/subscribers/s1/voicemail/greeting') {
        busy = 'default';
        return [204, {}];
      }
      return undefined;
    });
    const group = await screen.findByRole('group', { name: 'The busy greeting' });
    const wav = new File([new Uint8Array([82, 73, 70, 70])], 'busy.wav', { type: 'audio/wav' });
    const input = group.querySelector<HTMLInputElement>('input[type="file"]');
    if (input === null) throw new Error('no file input');
    await user.upload(input, wav);
    await waitFor(() => expect(uploads).toHaveLength(1));
    expect(uploads[0]?.url).toBe('/api/v1/subscribers/s1/voicemail/greeting?kind=busy');
    expect(uploads[0]?.init?.body).toBe(wav);
    // Reloaded: the busy greeting is the uploaded one, the unavailable one still the standard.
    expect(await within(group).findByText('Your own greeting plays.')).toBeTruthy();
    const unavailable = screen.getByRole('group', { name: 'The unavailable greeting' });
    expect(within(unavailable).getByText('The standard greeting plays.')).toBeTruthy();
    expect(within(unavailable).queryByRole('button', { name: /Use the standard/ })).toBeNull();
    await user.click(within(group).getByRole('button', { name: 'Use the standard busy greeting' }));
    await waitFor(() => expect(requests.some((r) => r.method === 'DELETE')).toBe(true));
    expect(requests.find((r) => r.method === 'DELETE')).toMatchObject({
      path: '/api/v1/subscribers/s1/voicemail/greeting',
      search: '?kind=busy',
    });
    expect(await within(group).findByText('The standard greeting plays.')).toBeTruthy();
  });
});

afterEach(() => {
  vi.restoreAllMocks();
});
