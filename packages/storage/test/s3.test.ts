import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import type { S3Settings } from '@switchboard/config';
import { S3_TEST_CREDENTIALS, type S3TestServer, startS3Server } from '@switchboard/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStorage, S3Storage, S3StorageError, spoolFor, withLocalCopy } from '../src/index.ts';

/**
 * The S3 storage against a real S3-compatible server on loopback (s3rver, which checks every request's
 * Signature Version 4 with its own copy of the secret), and the local folder it stands in for.
 */

let server: S3TestServer;
let spool: string;
const settings = (overrides: Partial<S3Settings> = {}): S3Settings => ({
  endpoint: server.endpoint,
  region: 'us-east-1',
  bucket: server.bucket,
  ...S3_TEST_CREDENTIALS,
  prefix: 'pbx/',
  forcePathStyle: true,
  ...overrides,
});

beforeAll(async () => {
  server = await startS3Server();
  spool = await mkdtemp(join(tmpdir(), 'storage-spool-'));
});
afterAll(async () => {
  await server?.close();
  if (spool) await rm(spool, { recursive: true, force: true });
});

describe('S3 storage', () => {
  it('puts, gets, tells existence and deletes an object under prefix and area', async () => {
    const storage = new S3Storage(settings(), 'voicemail/messages');
    const data = Buffer.from('RIFF-not-really-a-wav-but-bytes');
    expect(await storage.exists('sub-1.wav')).toBe(false);
    expect(await storage.get('sub-1.wav')).toBeUndefined();
    await storage.put('sub-1.wav', data);
    expect(await server.keys()).toEqual(['pbx/voicemail/messages/sub-1.wav']);
    expect(await storage.exists('sub-1.wav')).toBe(true);
    const object = await storage.get('sub-1.wav');
    if (!object) throw new Error('the object is not there');
    expect(object.size).toBe(data.length);
    expect(await text(object.body)).toBe(data.toString());
    await storage.delete('sub-1.wav');
    expect(await server.keys()).toEqual([]);
    expect(await storage.exists('sub-1.wav')).toBe(false);
    // Deleting what is not there is no error (retention may run on two nodes at once).
    await storage.delete('sub-1.wav');
  });

  it('keeps nested keys and keys with spaces and symbols, as recordings name them', async () => {
    const storage = new S3Storage(settings({ prefix: '' }), 'recordings/calls');
    await storage.put('cust 1/2026-12/a+b(1).wav', Buffer.from('x'));
    expect(await server.keys()).toContain('recordings/calls/cust 1/2026-12/a+b(1).wav');
    expect(await storage.exists('cust 1/2026-12/a+b(1).wav')).toBe(true);
    await storage.delete('cust 1/2026-12/a+b(1).wav');
  });

  it('a wrong secret is refused by the server (403) and the error names what to check, not the secret', async () => {
    const storage = new S3Storage(settings({ secretAccessKey: 'not-the-secret' }), 'voicemail/messages');
    const error = await storage.put('x.wav', Buffer.from('x')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(S3StorageError);
    expect((error as S3StorageError).status).toBe(403);
    expect((error as S3StorageError).code).toBe('SignatureDoesNotMatch');
    expect((error as Error).message).toContain('S3_SECRET_ACCESS_KEY');
    expect((error as Error).message).not.toContain('not-the-secret');
    await expect(storage.get('x.wav')).rejects.toThrow(/403/);
    expect(await server.keys()).toEqual([]);
  });

  it('an unknown bucket is an error naming S3_BUCKET, not a missing object', async () => {
    const storage = new S3Storage(settings({ bucket: 'no-such-bucket' }), 'voicemail/messages');
    await expect(storage.get('x.wav')).rejects.toThrow(/NoSuchBucket.*S3_BUCKET/);
  });

  it('builds virtual-hosted URLs (bucket in the host name) unless path style is forced', () => {
    const virtual = new S3Storage(
      settings({ endpoint: 'https://s3.eu-west-1.amazonaws.com', forcePathStyle: false }),
      'voicemail/greetings',
    );
    expect(virtual.urlOf('a b.wav').href).toBe(
      `https://${server.bucket}.s3.eu-west-1.amazonaws.com/pbx/voicemail/greetings/a%20b.wav`,
    );
    const path = new S3Storage(settings({ endpoint: 'http://minio.local:9000' }), 'voicemail/greetings');
    expect(path.urlOf('a.wav').href).toBe(
      `http://minio.local:9000/${server.bucket}/pbx/voicemail/greetings/a.wav`,
    );
    expect(() => path.urlOf('../other/a.wav')).toThrow(/invalid object key/);
  });

  it('hands a local copy to file readers and uploads what a writer spooled', async () => {
    const storage = new S3Storage(settings(), 'voicemail/greetings');
    const writer = await spoolFor(storage, 'g.wav', spool);
    await writeFile(writer.path, 'greeting');
    await writer.commit();
    await writer.release();
    expect(await server.keys()).toEqual(['pbx/voicemail/greetings/g.wav']);
    let seen: string | undefined;
    const content = await withLocalCopy(storage, 'g.wav', spool, async (path) => {
      seen = path;
      return path ? readFile(path, 'utf8') : undefined;
    });
    expect(content).toBe('greeting');
    // The copy is gone afterwards, and a missing object gives no path.
    await expect(readFile(seen ?? '')).rejects.toThrow();
    expect(await withLocalCopy(storage, 'missing.wav', spool, async (path) => path)).toBeUndefined();
    await storage.delete('g.wav');
  });
});

describe('local storage', () => {
  it('writes, reads and deletes files in its folder, and never outside it', async () => {
    const storage = new LocalStorage(join(spool, 'calls'));
    await storage.put('c1/2026-12/r.wav', Buffer.from('abc'));
    expect(await readFile(join(spool, 'calls', 'c1', '2026-12', 'r.wav'), 'utf8')).toBe('abc');
    const object = await storage.get('c1/2026-12/r.wav');
    expect(object?.size).toBe(3);
    object?.body.destroy();
    expect(await storage.get('../calls/c1/2026-12/r.wav')).toBeUndefined();
    await storage.delete('c1/2026-12/r.wav');
    expect(await storage.exists('c1/2026-12/r.wav')).toBe(false);
    // A writer writes in place: nothing to upload, nothing to remove.
    const writer = await spoolFor(storage, 'x.wav', spool);
    expect(writer.path).toBe(join(spool, 'calls', 'x.wav'));
  });
});
