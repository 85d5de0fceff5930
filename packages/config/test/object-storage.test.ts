import { describe, expect, it } from 'vitest';
import { readObjectStorage } from '../src/object-storage.ts';
import { loadConfig } from '../src/runtime-contract.ts';

const keys = { S3_ACCESS_KEY_ID: 'AKID', S3_SECRET_ACCESS_KEY: 'very-secret' };

describe('object storage settings', () => {
  it('are off by default: files stay under DATA_DIR', () => {
    expect(loadConfig({}).objectStorage).toBeUndefined();
  });

  it('S3_BUCKET turns them on; AWS gets its regional endpoint and virtual-hosted URLs', () => {
    const { s3, problems } = readObjectStorage({
      S3_BUCKET: 'pbx-audio',
      S3_REGION: 'eu-central-1',
      ...keys,
    });
    expect(problems).toEqual([]);
    expect(s3).toEqual({
      endpoint: 'https://s3.eu-central-1.amazonaws.com',
      region: 'eu-central-1',
      bucket: 'pbx-audio',
      accessKeyId: 'AKID',
      secretAccessKey: 'very-secret',
      prefix: '',
      forcePathStyle: false,
    });
  });

  it('an own endpoint (MinIO, Garage) defaults to path style; the prefix is normalised', () => {
    const { s3 } = readObjectStorage({
      S3_BUCKET: 'pbx',
      S3_ENDPOINT: 'http://minio:9000/',
      S3_PREFIX: '/prod/switchboard/',
      ...keys,
    });
    expect(s3).toMatchObject({
      endpoint: 'http://minio:9000',
      forcePathStyle: true,
      prefix: 'prod/switchboard/',
    });
    expect(
      readObjectStorage({
        S3_BUCKET: 'pbx',
        S3_ENDPOINT: 'https://s3.example.com',
        S3_FORCE_PATH_STYLE: 'off',
        ...keys,
      }).s3?.forcePathStyle,
    ).toBe(false);
  });

  it('every bad or missing variable is named, and the secret never appears in a message', () => {
    expect(() =>
      loadConfig({
        S3_BUCKET: 'Bad_Bucket',
        S3_ENDPOINT: 'ftp://x',
        S3_FORCE_PATH_STYLE: 'maybe',
        S3_PREFIX: 'a/../b',
        S3_SECRET_ACCESS_KEY: 'very-secret',
      }),
    ).toThrow(
      expect.objectContaining({
        problems: expect.arrayContaining([
          expect.objectContaining({ variable: 'S3_BUCKET' }),
          expect.objectContaining({ variable: 'S3_ENDPOINT' }),
          expect.objectContaining({ variable: 'S3_FORCE_PATH_STYLE' }),
          expect.objectContaining({ variable: 'S3_PREFIX' }),
          expect.objectContaining({ variable: 'S3_ACCESS_KEY_ID' }),
        ]),
      }),
    );
    const { problems } = readObjectStorage({ S3_BUCKET: 'pbx', S3_ACCESS_KEY_ID: 'AKID' });
    expect(problems).toEqual([
      { variable: 'S3_SECRET_ACCESS_KEY', message: 'expected the secret access key, since S3_BUCKET is set' },
    ]);
    try {
      loadConfig({ S3_BUCKET: 'x', S3_SECRET_ACCESS_KEY: 'very-secret' });
    } catch (error) {
      expect((error as Error).message).not.toContain('very-secret');
    }
  });

  it('S3 settings without a bucket are a mistake, not the local folder', () => {
    expect(readObjectStorage({ S3_ENDPOINT: 'http://minio:9000' }).problems).toEqual([
      { variable: 'S3_BUCKET', message: 'expected a bucket name, since S3_ENDPOINT is set' },
    ]);
  });
});
