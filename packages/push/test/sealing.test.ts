import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  apnsCredentials,
  CredentialError,
  fcmCredentials,
  joinCredentials,
  splitCredentials,
} from '../src/credentials.ts';
import { loadCredentialsKey, SealingError, seal, sealingContext, unseal } from '../src/sealing.ts';
import { makeApnsKey, makeServiceAccount } from '../src/testing.ts';

const folders: string[] = [];
afterAll(async () => {
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

describe('sealed credentials', () => {
  it('generates a private key file in the data folder once and reuses it', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'push-key-'));
    folders.push(dataDir);
    const key = loadCredentialsKey({ env: {}, dataDir });
    expect(key).toHaveLength(32);
    expect(statSync(join(dataDir, 'push-credentials.key')).mode & 0o777).toBe(0o600);
    expect(loadCredentialsKey({ env: {}, dataDir }).equals(key)).toBe(true);
  });

  it('prefers PUSH_CREDENTIALS_KEY and refuses one of the wrong size', () => {
    const hex = 'ab'.repeat(32);
    expect(
      loadCredentialsKey({ env: { PUSH_CREDENTIALS_KEY: hex }, dataDir: '/nonexistent' }).toString('hex'),
    ).toBe(hex);
    expect(() =>
      loadCredentialsKey({ env: { PUSH_CREDENTIALS_KEY: 'c2hvcnQ=' }, dataDir: '/nonexistent' }),
    ).toThrow(SealingError);
  });

  it('opens only with the same key and the same row context', () => {
    const key = Buffer.alloc(32, 1);
    const context = sealingContext('domain-1', 'apns');
    const sealed = seal(key, 'the private key', context);
    expect(sealed).not.toContain('private');
    expect(unseal(key, sealed, context)).toBe('the private key');
    expect(() => unseal(key, sealed, sealingContext('domain-2', 'apns'))).toThrow(SealingError);
    expect(() => unseal(Buffer.alloc(32, 2), sealed, context)).toThrow(SealingError);
    expect(seal(key, 'the private key', context)).not.toBe(sealed);
  });
});

describe('credential uploads', () => {
  it('accepts an APNs key and keeps the private key out of the shown settings', () => {
    const { privateKey } = makeApnsKey();
    const credentials = apnsCredentials({
      teamId: 'ABCDE12345',
      keyId: 'KEY1234567',
      bundleId: 'com.example.phone',
      privateKey,
    });
    const { settings, secret } = splitCredentials(credentials);
    expect(settings).toEqual({
      teamId: 'ABCDE12345',
      keyId: 'KEY1234567',
      bundleId: 'com.example.phone',
      environment: 'production',
    });
    expect(joinCredentials('apns', settings, secret)).toEqual(credentials);
    // A row stored before the environment was a setting is production.
    const { environment: _e, ...older } = settings;
    expect(joinCredentials('apns', older, secret)).toEqual(credentials);
    const sandbox = apnsCredentials({ ...credentials, environment: 'sandbox' });
    expect(splitCredentials(sandbox).settings.environment).toBe('sandbox');
    expect(joinCredentials('apns', splitCredentials(sandbox).settings, secret)).toMatchObject({
      environment: 'sandbox',
    });
  });

  it('names the field that is wrong', () => {
    const { privateKey } = makeApnsKey();
    const upload = { teamId: 'ABCDE12345', keyId: 'KEY1234567', bundleId: 'com.example.phone', privateKey };
    const fieldOf = (fn: () => unknown): string | undefined => {
      try {
        fn();
      } catch (error) {
        if (error instanceof CredentialError) return error.field;
        throw error;
      }
      return undefined;
    };
    expect(fieldOf(() => apnsCredentials({ ...upload, teamId: 'abc' }))).toBe('teamId');
    expect(fieldOf(() => apnsCredentials({ ...upload, bundleId: 'com.example.phone.voip' }))).toBe(
      'bundleId',
    );
    expect(fieldOf(() => apnsCredentials({ ...upload, privateKey: 'not a key' }))).toBe('privateKey');
    expect(fieldOf(() => apnsCredentials({ ...upload, environment: 'staging' }))).toBe('environment');
    // An RSA key is not an APNs key.
    const rsa = JSON.parse(makeServiceAccount('some-project').json).private_key as string;
    expect(fieldOf(() => apnsCredentials({ ...upload, privateKey: rsa }))).toBe('privateKey');
    expect(fieldOf(() => fcmCredentials('{"type":"authorized_user"}'))).toBe('serviceAccount');
    expect(fieldOf(() => fcmCredentials('not json'))).toBe('serviceAccount');
  });

  it('reads a service-account JSON', () => {
    const account = makeServiceAccount('my-project-1');
    const credentials = fcmCredentials(account.json);
    expect(credentials).toMatchObject({
      provider: 'fcm',
      projectId: 'my-project-1',
      clientEmail: account.clientEmail,
    });
    expect(splitCredentials(credentials).settings).toEqual({
      projectId: 'my-project-1',
      clientEmail: account.clientEmail,
      privateKeyId: 'test-key-1',
    });
  });
});
