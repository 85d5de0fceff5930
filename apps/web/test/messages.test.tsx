import { screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { operator, renderApp } from './render.tsx';

const message = (
  id: string,
  from: string,
  to: string,
  body: string,
  status: 'queued' | 'delivered' | 'failed',
  minute: number,
) => ({
  id,
  callId: `${id}@test`,
  senderSubscriberId: from === 'alice' ? 's1' : 's9',
  senderCustomerId: 'c1',
  recipientSubscriberId: to === 'alice' ? 's1' : 's9',
  recipientCustomerId: 'c1',
  fromUri: `sip:${from}@voip.example.com`,
  toUri: `sip:${to}@voip.example.com`,
  contentType: 'text/plain',
  body,
  status,
  attempts: status === 'queued' ? 0 : 1,
  error: null,
  createdAt: `2026-02-01T10:0${minute}:00.000Z`,
  deliveredAt: status === 'delivered' ? `2026-02-01T10:0${minute}:01.000Z` : null,
});

describe('portal messages', () => {
  it("shows a phone's conversation oldest first, sent and received apart, with each delivery state", async () => {
    const { requests } = renderApp('/portal/messages', (key) => {
      if (key === 'GET /api/v1/auth/me') return { ...operator, role: 'customer', customerId: 'c1' };
      if (key === 'GET /api/v1/subscribers')
        return {
          items: [{ id: 's1', username: 'alice', displayName: null }],
          page: 1,
          perPage: 100,
          total: 1,
        };
      if (key === 'GET /api/v1/messages')
        // The API answers newest first.
        return {
          items: [
            message('m3', 'alice', 'bob', 'are you there?', 'queued', 3),
            message('m2', 'bob', 'alice', 'hi alice', 'delivered', 2),
            message('m1', 'alice', 'bob', 'hello bob', 'delivered', 1),
          ],
          page: 1,
          perPage: 200,
          total: 3,
        };
      if (key.startsWith('GET /api/v1/')) return { items: [], page: 1, perPage: 25, total: 0 };
      return undefined;
    });
    const log = await screen.findByRole('log', { name: 'Conversation' });
    await within(log).findByText('hello bob');
    const cards = within(log).getAllByLabelText(/message$/);
    expect(cards.map((c) => c.getAttribute('aria-label'))).toEqual([
      'Sent message',
      'Received message',
      'Sent message',
    ]);
    expect(cards.map((c) => within(c).getByText(/hello bob|hi alice|are you there/).textContent)).toEqual([
      'hello bob',
      'hi alice',
      'are you there?',
    ]);
    expect(within(cards[2]!).getByText('waiting for the phone to come online')).toBeTruthy();
    expect(within(cards[1]!).getByText('From sip:bob@voip.example.com', { exact: false })).toBeTruthy();
    const asked = requests.find((r) => r.path === '/api/v1/messages');
    expect(asked).toBeDefined();
  });
});
