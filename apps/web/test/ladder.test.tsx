import { screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { operator, renderApp } from './render.tsx';

function message(seq: number, source: string, destination: string, startLine: string) {
  return {
    seq,
    at: new Date(Date.UTC(2026, 0, 10, 10, 0, 0, seq)).toISOString(),
    direction: 'in',
    transport: 'udp',
    source,
    destination,
    callId: 'a-leg',
    startLine,
    message: `${startLine}\r\nCall-ID: a-leg\r\n\r\n`,
  };
}

const ALICE = '192.0.2.10:5060';
const ENGINE = '127.0.0.1:5060';
const BOB = '192.0.2.20:5062';

describe('SIP ladder page', () => {
  it('draws one column per address and one arrow per message of both legs', async () => {
    const { requests } = renderApp('/admin/calls/a-leg/ladder', (key) => {
      if (key === 'GET /api/v1/auth/me') return operator;
      if (key === 'GET /api/v1/calls/a-leg/ladder')
        return {
          callId: 'a-leg',
          legs: ['a-leg', 'b-leg'],
          messages: [
            message(1, ALICE, ENGINE, 'INVITE sip:bob@example.test SIP/2.0'),
            message(2, ENGINE, BOB, 'INVITE sip:bob@192.0.2.20:5062 SIP/2.0'),
            message(3, BOB, ENGINE, 'SIP/2.0 200 OK'),
            message(4, ENGINE, ALICE, 'SIP/2.0 200 OK'),
          ],
        };
      return undefined;
    });
    const ladder = await screen.findByRole('img', { name: 'SIP ladder' });
    // Columns in order of first appearance.
    const headings = within(ladder)
      .getAllByTestId('ladder-column')
      .map((c) => c.querySelector('text')?.textContent);
    expect(headings).toEqual([ALICE, ENGINE, BOB]);
    const arrows = within(ladder).getAllByTestId('ladder-arrow');
    expect(arrows.map((a) => a.querySelector(':scope > text')?.textContent)).toEqual([
      'INVITE sip:bob@example.test',
      'INVITE sip:bob@192.0.2.20:5062',
      'SIP/2.0 200 OK',
      'SIP/2.0 200 OK',
    ]);
    // The 200 from bob runs right to left: from bob's column to the engine's.
    const line = arrows[2]!.querySelector('line')!;
    expect(Number(line.getAttribute('x1'))).toBeGreaterThan(Number(line.getAttribute('x2')));
    expect(requests.some((r) => r.path === '/api/v1/calls/a-leg/ladder')).toBe(true);
  });

  it('says so when the call was not captured', async () => {
    renderApp('/admin/calls/gone/ladder', (key) => {
      if (key === 'GET /api/v1/auth/me') return operator;
      if (key === 'GET /api/v1/calls/gone/ladder')
        return [
          404,
          {
            title: 'Not Found',
            status: 404,
            detail: 'No captured SIP messages for this call in the last hour',
          },
        ];
      return undefined;
    });
    expect(await screen.findByText('No captured SIP messages for this call in the last hour')).toBeTruthy();
  });
});
