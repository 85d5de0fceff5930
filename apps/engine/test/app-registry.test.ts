import { describe, expect, it } from 'vitest';
import { AppRegistry } from '../src/admin/app-registry.ts';

const app = (id: string, tags: string[] = []) => ({ id, hasTag: (t: string) => tags.includes(t) });

describe('app registry', () => {
  it('hands new requests to the apps that routed the verb in turn', () => {
    const r = new AppRegistry<ReturnType<typeof app>>();
    const a = app('a');
    const b = app('b');
    r.route(a, 'INVITE');
    r.route(b, 'invite');
    r.route(a, 'options');
    expect([1, 2, 3, 4].map(() => r.select('invite')?.id)).toEqual(['a', 'b', 'a', 'b']);
    expect([1, 2].map(() => r.select('OPTIONS')?.id)).toEqual(['a', 'a']);
    expect(r.select('register')).toBeUndefined();
  });

  it('filters by tag and skips apps without it', () => {
    const r = new AppRegistry<ReturnType<typeof app>>();
    r.route(app('a'), 'invite');
    r.route(app('b', ['blue']), 'invite');
    expect([1, 2, 3].map(() => r.select('invite', 'blue')?.id)).toEqual(['b', 'b', 'b']);
    expect(r.select('invite', 'red')).toBeUndefined();
  });

  it('forgets one verb on remove_route and every verb when the app leaves', () => {
    const r = new AppRegistry<ReturnType<typeof app>>();
    const a = app('a');
    const b = app('b');
    r.route(a, 'invite');
    r.route(a, 'options');
    r.route(b, 'invite');
    r.removeRoute(a, 'options');
    expect(r.hasRoute('options')).toBe(false);
    expect(r.hasRoute('invite')).toBe(true);
    r.removeApp(a);
    expect([1, 2].map(() => r.select('invite')?.id)).toEqual(['b', 'b']);
    r.removeApp(b);
    expect(r.hasRoute('invite')).toBe(false);
    expect(r.appsFor('invite')).toEqual([]);
  });
});
