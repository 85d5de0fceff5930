import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { S3Settings } from '@switchboard/config';
import { EMPTY_SHA256, encodeKey, sha256Hex, signRequest } from './sigv4.ts';
import { checkKey, type ObjectStorage, type StoredObject } from './storage.ts';

/** A request the service refused: its HTTP status and S3 error code, the bucket and key, never a credential. */
export class S3StorageError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'S3StorageError';
  }
}

/** How long one request may take before it is abandoned (a stalled service must not hold a call). */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Objects in a bucket of an S3-compatible service: PUT, GET, HEAD and DELETE Object signed with AWS
 * Signature Version 4 over Node's fetch. Keys are `S3_PREFIX` + the area (`voicemail/messages/`, ...) + the
 * key the row stores. Bodies are sent whole with their SHA-256 (these files are a few megabytes at most).
 */
export class S3Storage implements ObjectStorage {
  private readonly base: URL;

  constructor(
    private readonly settings: S3Settings,
    /** The folder-like part of the key for this kind of file, e.g. `voicemail/messages`. */
    private readonly area: string,
  ) {
    this.base = new URL(settings.endpoint);
  }

  get location(): string {
    return `s3://${this.settings.bucket}/${this.settings.prefix}${this.area}`;
  }

  fileOf(): undefined {
    return undefined;
  }

  /** The object's URL: `endpoint/bucket/key` (path style) or `bucket.endpoint-host/key` (virtual-hosted). */
  urlOf(key: string): URL {
    const objectKey = `${this.settings.prefix}${this.area}/${checkKey(key)}`;
    const url = new URL(this.base.href);
    const basePath = url.pathname.replace(/\/+$/, '');
    if (this.settings.forcePathStyle) {
      url.pathname = `${basePath}/${encodeKey(this.settings.bucket)}/${encodeKey(objectKey)}`;
    } else {
      url.hostname = `${this.settings.bucket}.${url.hostname}`;
      url.pathname = `${basePath}/${encodeKey(objectKey)}`;
    }
    return url;
  }

  private async request(method: string, key: string, body?: Buffer): Promise<Response> {
    const url = this.urlOf(key);
    const signed = signRequest({
      method,
      url,
      ...(body ? { headers: { 'content-type': 'audio/wav' } } : {}),
      payloadHash: body ? sha256Hex(body) : EMPTY_SHA256,
      region: this.settings.region,
      credentials: this.settings,
      date: new Date(),
    });
    // fetch sets Host from the URL itself, and the same value was signed.
    const { host: _host, ...headers } = signed.headers;
    try {
      return await fetch(url, {
        method,
        headers,
        // A copy typed as the plain ArrayBuffer view that fetch's body type (DOM and Node alike) accepts.
        ...(body ? { body: Uint8Array.from(body) } : {}),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw new S3StorageError(
        0,
        undefined,
        `${method} ${this.location}/${key}: ${this.settings.endpoint} not reachable (${(error as Error).message})`,
      );
    }
  }

  /** Turns a refusal into an error that says what to check (a 403 is almost always the key pair). */
  private async refused(response: Response, method: string, key: string): Promise<S3StorageError> {
    const text = await response.text().catch(() => '');
    const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
    const hint =
      response.status === 403
        ? ' (check S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY and S3_REGION)'
        : response.status === 404 && code === 'NoSuchBucket'
          ? ' (check S3_BUCKET)'
          : '';
    return new S3StorageError(
      response.status,
      code,
      `${method} ${this.location}/${key}: ${response.status}${code ? ` ${code}` : ''}${hint}`,
    );
  }

  async put(key: string, data: Buffer): Promise<void> {
    const response = await this.request('PUT', key, data);
    if (!response.ok) throw await this.refused(response, 'PUT', key);
    await response.body?.cancel();
  }

  async putFile(key: string, path: string): Promise<void> {
    await this.put(key, await readFile(path));
  }

  async get(key: string): Promise<StoredObject | undefined> {
    const response = await this.request('GET', key);
    if (response.status === 404) {
      const error = await this.refused(response, 'GET', key);
      if (error.code === 'NoSuchBucket') throw error;
      return undefined;
    }
    if (!response.ok || !response.body) throw await this.refused(response, 'GET', key);
    return {
      body: Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
      size: Number(response.headers.get('content-length') ?? 0),
    };
  }

  async delete(key: string): Promise<void> {
    const response = await this.request('DELETE', key);
    // S3 answers 204 whether or not the object was there; some services answer 404 for a missing one.
    if (!response.ok && response.status !== 404) throw await this.refused(response, 'DELETE', key);
    await response.body?.cancel();
  }

  async exists(key: string): Promise<boolean> {
    const response = await this.request('HEAD', key);
    if (response.status === 404) return false;
    if (!response.ok) throw await this.refused(response, 'HEAD', key);
    return true;
  }
}
