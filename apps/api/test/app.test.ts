import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, routesOf, startApi } from '../src/app.ts';
import type { ComponentHealth } from '../src/types.ts';
import { createWorld, type World } from './support/world.ts';

let world: World;
beforeAll(async () => {
  world = await createWorld('app');
});
afterAll(async () => {
  await world?.close();
});

describe('health', () => {
  const appWith = (health: () => Promise<Record<string, ComponentHealth>>) =>
    buildApp({ prisma: world.prisma, logger: pino({ level: 'silent' }), health });

  it('answers 200 ok when every component is up or disabled', async () => {
    const app = await appWith(async () => ({ database: { status: 'up' }, media: { status: 'disabled' } }));
    const res = await app.inject({ method: 'GET', url: '/api/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      status: 'ok',
      components: { database: { status: 'up' }, media: { status: 'disabled' } },
    });
    await app.close();
  });

  it('answers 503 when a component is down, naming it', async () => {
    const app = await appWith(async () => ({
      database: { status: 'up' },
      engine: { status: 'down', detail: 'no socket' },
    }));
    const res = await app.inject({ method: 'GET', url: '/api/health' });
    expect(res.statusCode).toBe(503);
    expect(res.json().components.engine).toEqual({ status: 'down', detail: 'no socket' });
    await app.close();
  });
});

describe('OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const res = await world.app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe('3.1.0');
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('lists exactly the registered API routes', async () => {
    const doc = (await world.app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = new Set<string>();
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops)) {
        documented.add(`${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`);
      }
    }
    const registered = new Set(
      routesOf(world.app)
        .filter(
          (r) =>
            r.url.startsWith('/api/') && !r.hidden && r.method !== 'HEAD' && !r.url.startsWith('/api/docs'),
        )
        .map((r) => `${r.method} ${r.url}`),
    );
    expect([...documented].sort()).toEqual([...registered].sort());
    // The resources of the brief are all there.
    for (const p of [
      'GET /api/v1/resellers',
      'POST /api/v1/customers',
      'PATCH /api/v1/domains/:id',
      'POST /api/v1/subscribers/:id/reset-password',
      'DELETE /api/v1/numbers/:id',
      'POST /api/v1/call-forwards',
      'POST /api/v1/rewrite-rule-sets/:ruleSetId/rules',
      'POST /api/v1/peering-groups/:groupId/gateways',
      'GET /api/v1/peering-groups/:groupId/rules',
      'POST /api/v1/ip-bans',
      'GET /api/v1/registrations',
      'GET /api/v1/calls',
      'GET /api/v1/cdrs',
      'GET /api/v1/audit-log',
      'POST /api/v1/auth/login',
      'POST /api/v1/api-keys',
      'POST /api/v1/signup',
      'GET /api/health',
      'POST /api/v1/rewrite-rule-sets/:id/test',
      'POST /api/v1/peering-groups/test-route',
    ]) {
      expect(documented).toContain(p);
    }
  });

  it('documents problem+json errors and bearer security', async () => {
    const doc = (await world.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    const op = doc.paths['/api/v1/subscribers'].post;
    expect(Object.keys(op.responses)).toEqual(
      expect.arrayContaining(['201', '400', '401', '403', '404', '409']),
    );
    expect(op.responses['400'].content['application/problem+json'].schema.properties.errors).toBeDefined();
    expect(doc.components.securitySchemes.bearer.scheme).toBe('bearer');
    expect(doc.paths['/api/v1/auth/login'].post.security).toEqual([]);
    // Secrets never appear in a response schema.
    const subscriber = JSON.stringify(doc.paths['/api/v1/subscribers/{id}'].get.responses['200']);
    expect(subscriber).not.toMatch(/ha1/i);
  });
});

describe('docs UI', () => {
  it('serves Swagger UI and all its assets from the package (works offline)', async () => {
    let res = await world.app.inject({ method: 'GET', url: '/api/docs' });
    if (res.statusCode === 302)
      res = await world.app.inject({ method: 'GET', url: res.headers.location as string });
    expect(res.statusCode).toBe(200);
    const html = res.body;
    expect(html).toContain('swagger');
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      expect(ref).not.toMatch(/^(https?:)?\/\//);
      const url = ref.startsWith('/') ? ref : `/api/docs/${ref.replace(/^\.\//, '')}`;
      const asset = await world.app.inject({ method: 'GET', url });
      expect(asset.statusCode, url).toBe(200);
    }
    const init = await world.app.inject({ method: 'GET', url: '/api/docs/static/swagger-initializer.js' });
    expect(init.statusCode).toBe(200);
    // No string literal points the browser at another host (comments may mention links).
    expect(init.body).not.toMatch(/['"`]https?:\/\//);
  });
});

describe('errors and static files', () => {
  it('answers unknown API paths with problem+json 404', async () => {
    const res = await world.app.inject({ method: 'GET', url: '/api/v1/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ status: 404, title: 'Not found' });
  });

  it('serves the web app with SPA fallback for non-API paths only', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sb-web-'));
    await mkdir(join(root, 'assets'));
    await writeFile(join(root, 'index.html'), '<!doctype html><title>Switchboard</title>');
    await writeFile(join(root, 'assets', 'app.js'), 'console.log(1)');
    const api = await startApi(
      { port: 0, host: '127.0.0.1' },
      {
        prisma: world.prisma,
        logger: pino({ level: 'silent' }),
        health: async () => ({}),
        webRoot: root,
      },
    );
    try {
      expect(api.port).toBeGreaterThan(0);
      const get = (p: string) => fetch(`http://127.0.0.1:${api.port}${p}`);
      const index = await get('/');
      expect(index.status).toBe(200);
      expect(await index.text()).toContain('<title>Switchboard</title>');
      const js = await get('/assets/app.js');
      expect(js.status).toBe(200);
      expect(js.headers.get('content-type')).toContain('javascript');
      const deep = await get('/subscribers/123');
      expect(deep.status).toBe(200);
      expect(await deep.text()).toContain('<title>Switchboard</title>');
      const api404 = await get('/api/v1/does-not-exist');
      expect(api404.status).toBe(404);
      expect(api404.headers.get('content-type')).toContain('application/problem+json');
      const health = await get('/api/health');
      expect(health.status).toBe(200);
    } finally {
      await api.close();
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('without SMTP_URL', () => {
  it('says that sign-up and password reset need e-mail, and offers no sign-up domain', async () => {
    const signup = await world.app.inject({
      method: 'POST',
      url: '/api/v1/signup',
      payload: {
        domain: 'a.example.com',
        email: 'z@test.example',
        password: 'a long password',
        username: 'z',
      },
    });
    expect(signup.statusCode).toBe(503);
    expect(signup.json().detail).toContain('SMTP_URL');
    const reset = await world.app.inject({
      method: 'POST',
      url: '/api/v1/auth/password-reset',
      payload: { email: 'operator@test.example' },
    });
    expect(reset.statusCode).toBe(503);
    const domains = await world.app.inject({ method: 'GET', url: '/api/v1/signup/domains' });
    expect(domains.json()).toEqual({ domains: [] });
    expect(
      await world.prisma.customer.count({ where: { users: { some: { email: 'z@test.example' } } } }),
    ).toBe(0);
  });
});
