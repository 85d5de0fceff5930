import { screen, waitFor, within } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { parseSample } from '../src/pages/admin/HeaderRules.tsx';
import { operator, renderApp } from './render.tsx';

const list = (items: unknown[]) => ({ items, page: 1, perPage: 50, total: items.length });

describe('header rules page', () => {
  it('reads a typed request line by line', () => {
    expect(
      parseSample('INVITE sip:1@gw SIP/2.0\nX-A: 1\nbroken line\nP-Asserted-Identity: <sip:2@x>'),
    ).toEqual({
      method: 'INVITE',
      requestUri: 'sip:1@gw',
      headers: [
        ['X-A', '1'],
        ['P-Asserted-Identity', '<sip:2@x>'],
      ],
    });
  });

  it('adds a rule and shows a sample request before and after the set', async () => {
    const user = userEvent.setup();
    const rule = {
      id: 'r1',
      ruleSetId: 's1',
      priority: 100,
      enabled: true,
      description: null,
      direction: null,
      method: null,
      headerName: null,
      headerPattern: null,
      sourceAddress: null,
      callerPattern: null,
      calleePattern: null,
      action: 'remove_header',
      targetHeader: 'X-Internal',
      matchPattern: null,
      value: null,
    };
    const { requests } = renderApp('/admin/header-rules', (key, body) => {
      if (key === 'GET /api/v1/auth/me') return operator;
      if (key === 'GET /api/v1/header-rule-sets') return list([{ id: 's1', name: 'to-carrier' }]);
      if (key === 'GET /api/v1/header-rule-sets/s1/rules') return list([rule]);
      if (key === 'POST /api/v1/header-rule-sets/s1/rules')
        return [201, { ...rule, id: 'r2', ...(body as object) }];
      if (key === 'POST /api/v1/header-rule-sets/s1/test') {
        const message = (body as { message: { headers: string[][] } }).message;
        return {
          before: message,
          after: {
            ...message,
            headers: [...message.headers.filter(([n]) => n !== 'X-Internal'), ['X-Trunk', 'a']],
          },
          steps: [{ ruleId: 'r1', matched: true }],
        };
      }
      if (key.startsWith('GET /api/v1/')) return list([]);
      return undefined;
    });
    expect(await screen.findByText('X-Internal')).toBeTruthy();

    const form = screen.getByRole('form', { name: 'New header rule' });
    await user.selectOptions(within(form).getByLabelText('Action'), 'add_header');
    await user.type(within(form).getByLabelText('Header'), 'X-Trunk');
    await user.type(within(form).getByLabelText('Value'), 'a');
    await user.click(within(form).getByRole('button', { name: 'Add rule' }));
    await waitFor(() =>
      expect(requests.some((r) => r.path.endsWith('/rules') && r.method === 'POST')).toBe(true),
    );
    expect(requests.find((r) => r.path.endsWith('/rules') && r.method === 'POST')?.body).toMatchObject({
      action: 'add_header',
      targetHeader: 'X-Trunk',
      value: 'a',
      direction: null,
      priority: 100,
    });

    const tester = screen.getByRole('form', { name: 'Header rule tester' });
    await user.click(within(tester).getByRole('button', { name: 'Test' }));
    const after = await screen.findByTestId('header-rules-after');
    expect(after.textContent).toContain('X-Trunk: a');
    expect(after.textContent).not.toContain('X-Internal');
    expect(screen.getByTestId('header-rules-before').textContent).toContain('X-Internal: node-7');
    expect(requests.find((r) => r.path.endsWith('/test'))?.body).toMatchObject({
      direction: 'outbound',
      message: { method: 'INVITE', requestUri: 'sip:004930555123@gw.example.net' },
    });
  });
});
