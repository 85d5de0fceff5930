/// <reference path="./s3rver.d.ts" />
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import S3rver from '@20minutes/s3rver';
import { allocatePort } from './ports.ts';

/** The one key pair the S3 server knows (fixed by s3rver). */
export const S3_TEST_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/** Suffix under which s3rver's filesystem store keeps an object's bytes. */
const OBJECT_SUFFIX = '._S3rver_object';

export interface S3TestServer {
  /** `http://127.0.0.1:port` */
  endpoint: string;
  bucket: string;
  /** Every key in the bucket, read from the server's own store (not through the client under test). */
  keys(): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * A real S3-compatible server on loopback (s3rver: S3's REST API over a folder, verifying each request's
 * Signature Version 4 against its key pair `S3RVER`/`S3RVER`), with one empty bucket.
 */
export async function startS3Server(bucket = 'switchboard-test'): Promise<S3TestServer> {
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'));
  const port = await allocatePort({ tcp: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  await server.run();
  const root = join(directory, bucket);
  const keys = async (): Promise<string[]> => {
    const entries = await readdir(root, { recursive: true }).catch(() => [] as string[]);
    return entries
      .filter((entry) => entry.endsWith(OBJECT_SUFFIX))
      .map((entry) => relative('', entry.slice(0, -OBJECT_SUFFIX.length)).split(sep).join('/'))
      .sort();
  };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    keys,
    async close() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
