/**
 * Where voicemail messages, greetings and call recordings are kept (extensions of the runtime contract):
 * a folder under `DATA_DIR` unless `S3_BUCKET` names a bucket of an S3-compatible service (AWS S3, MinIO,
 * Garage, Ceph RGW, Wasabi), reached at `S3_ENDPOINT` with `S3_ACCESS_KEY_ID` / `S3_SECRET_ACCESS_KEY`.
 * - `S3_REGION`: the region requests are signed for (default `us-east-1`; MinIO and Garage take any).
 * - `S3_ENDPOINT`: `http(s)://host[:port]`; default `https://s3.<region>.amazonaws.com`.
 * - `S3_PREFIX`: put before every key (`pbx/` keeps the platform's objects together in a shared bucket).
 * - `S3_FORCE_PATH_STYLE`: `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key`; default
 *   on with `S3_ENDPOINT` (self-hosted services rarely have a wildcard DNS name), off for AWS.
 */
export interface S3Settings {
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  /** Never logged: it leaves the process only as request signatures. */
  secretAccessKey: string;
  /** Empty, or ending in `/`. */
  prefix: string;
  forcePathStyle: boolean;
}

type Env = Record<string, string | undefined>;
type Problem = { variable: string; message: string };

const S3_VARIABLES = [
  'S3_ENDPOINT',
  'S3_REGION',
  'S3_ACCESS_KEY_ID',
  'S3_SECRET_ACCESS_KEY',
  'S3_PREFIX',
  'S3_FORCE_PATH_STYLE',
] as const;

/** Bucket naming rules of S3 (3-63 lowercase letters, digits, dots, hyphens; a letter or digit at each end). */
export function parseBucketName(raw: string): string {
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(raw) || raw.includes('..'))
    throw new Error(`expected a bucket name (3-63 of a-z, 0-9, '.', '-'), got '${raw}'`);
  return raw;
}

export function parseS3Endpoint(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('expected an http(s) URL such as https://s3.example.com:9000');
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.username)
    throw new Error('expected an http(s) URL such as https://s3.example.com:9000');
  return url.origin + url.pathname.replace(/\/+$/, '');
}

/**
 * Reads the object storage variables: undefined without `S3_BUCKET` (the local folder). Each bad or missing
 * variable is a problem naming it; a secret's value is never part of a message.
 */
export function readObjectStorage(env: Env): { s3: S3Settings | undefined; problems: Problem[] } {
  const problems: Problem[] = [];
  const value = (name: string): string | undefined => env[name]?.trim() || undefined;
  const rawBucket = value('S3_BUCKET');
  if (rawBucket === undefined) {
    const stray = S3_VARIABLES.find((name) => value(name) !== undefined);
    if (stray)
      problems.push({ variable: 'S3_BUCKET', message: `expected a bucket name, since ${stray} is set` });
    return { s3: undefined, problems };
  }
  const parse = <T>(name: string, raw: string | undefined, fallback: T, parser: (raw: string) => T): T => {
    if (raw === undefined) return fallback;
    try {
      return parser(raw);
    } catch (err) {
      problems.push({ variable: name, message: (err as Error).message });
      return fallback;
    }
  };
  const bucket = parse('S3_BUCKET', rawBucket, '', parseBucketName);
  const region = parse('S3_REGION', value('S3_REGION'), 'us-east-1', (raw) => {
    if (!/^[a-z0-9-]{1,64}$/i.test(raw))
      throw new Error(`expected a region name such as eu-west-1, got '${raw}'`);
    return raw;
  });
  const givenEndpoint = parse<string | undefined>(
    'S3_ENDPOINT',
    value('S3_ENDPOINT'),
    undefined,
    parseS3Endpoint,
  );
  const forcePathStyle = parse(
    'S3_FORCE_PATH_STYLE',
    value('S3_FORCE_PATH_STYLE'),
    givenEndpoint !== undefined,
    (raw) => {
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off)$/i.test(raw)) return false;
      throw new Error(`expected 1/0, true/false, yes/no or on/off, got '${raw}'`);
    },
  );
  const prefix = parse('S3_PREFIX', value('S3_PREFIX'), '', (raw) => {
    const trimmed = raw.replace(/^\/+|\/+$/g, '');
    if (trimmed.split('/').some((part) => part === '' || part === '.' || part === '..'))
      throw new Error(`expected a key prefix such as pbx or switchboard/prod, got '${raw}'`);
    return `${trimmed}/`;
  });
  const accessKeyId = value('S3_ACCESS_KEY_ID');
  const secretAccessKey = value('S3_SECRET_ACCESS_KEY');
  if (accessKeyId === undefined)
    problems.push({
      variable: 'S3_ACCESS_KEY_ID',
      message: 'expected the access key id, since S3_BUCKET is set',
    });
  if (secretAccessKey === undefined)
    problems.push({
      variable: 'S3_SECRET_ACCESS_KEY',
      message: 'expected the secret access key, since S3_BUCKET is set',
    });
  return {
    s3: {
      endpoint: givenEndpoint ?? `https://s3.${region}.amazonaws.com`,
      region,
      bucket,
      accessKeyId: accessKeyId ?? '',
      secretAccessKey: secretAccessKey ?? '',
      prefix,
      forcePathStyle,
    },
    problems,
  };
}
