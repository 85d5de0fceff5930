import { screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { presenceOf } from '../src/components/PresenceDot.tsx';
import { operator, renderApp } from './render.tsx';

const list = (items: unknown[]) => ({ items, page: 1, perPage: 25, total: items.length });

const subscriber = (id: string, username: string, online: boolean) => ({
  id,
  username,
  online,
  sipUri: `sip:${username}@voip.example.com`,
  customerId: 'c1',
  customerName: 'Acme',
  domainId: 'd1',
  domain: 'voip.example.com',
  displayName: null,
  primaryNumber: null,
  status: 'active',
  createdAt: '',
  updatedAt: '',
});

describe('presence dot', () => {
  it('in a call wins over online; online needs a registration', () => {
    const inCall = new Set(['s1']);
    expect(presenceOf(true, 's1', inCall)).toBe('in-call');
    expect(presenceOf(false, 's1', inCall)).toBe('in-call');
    expect(presenceOf(true, 's2', inCall)).toBe('online');
    expect(presenceOf(false, 's2', inCall)).toBe('offline');
  });

  it("the subscriber list shows each subscriber's dot from registrations and live calls", async () => {
    renderApp('/admin/subscribers', (key) => {
      switch (key) {
        case 'GET /api/v1/auth/me':
          return operator;
        case 'GET /api/v1/subscribers':
          return list([
            subscriber('s1', 'alice', true),
            subscriber('s2', 'bob', true),
            subscriber('s3', 'carol', false),
          ]);
        case 'GET /api/v1/calls':
          return list([{ id: 'k1', callId: 'k1', callerSubscriberId: null, calleeSubscriberId: 's2' }]);
        default:
          return key.startsWith('GET /api/v1/') ? list([]) : undefined;
      }
    });
    const rowOf = async (user: string) =>
      (await screen.findByText(`sip:${user}@voip.example.com`)).closest('tr') as HTMLElement;
    expect(within(await rowOf('alice')).getByText('online')).toBeTruthy();
    expect(await within(await rowOf('bob')).findByText('in a call')).toBeTruthy();
    expect(within(await rowOf('carol')).getByText('offline')).toBeTruthy();
  });
});
