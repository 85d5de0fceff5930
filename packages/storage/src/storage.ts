import type { Readable } from 'node:stream';

/** An object as read: its bytes as a stream and their count (for Content-Length). */
export interface StoredObject {
  body: Readable;
  size: number;
}

/**
 * Where one kind of audio file is kept (voicemail messages, greetings, call recordings), by key: the file
 * name or relative path the database row stores. Two implementations: a local folder (LocalStorage, the
 * default) and a bucket of an S3-compatible service (S3Storage).
 */
export interface ObjectStorage {
  /** For logs and errors: the folder, or `s3://bucket/prefix`. Never a credential. */
  readonly location: string;
  put(key: string, data: Buffer): Promise<void>;
  /** Stores a file of this host under `key` (the file stays). */
  putFile(key: string, path: string): Promise<void>;
  /** The object, or undefined when there is none. */
  get(key: string): Promise<StoredObject | undefined>;
  /** Deletes the object; deleting one that is not there is no error. */
  delete(key: string): Promise<void>;
  exists(key: string): Promise<boolean>;
  /**
   * The object's own file when this storage keeps objects as files of this host (the local folder), so a
   * writer can write it in place and a player read it there; undefined for remote storage.
   */
  fileOf(key: string): string | undefined;
}

/** A key that names no parent folder and is not absolute: keys come from our rows, but never leave the area. */
export function checkKey(key: string): string {
  if (key === '' || key.startsWith('/') || key.split(/[/\\]/).some((part) => part === '..' || part === ''))
    throw new Error(`invalid object key '${key}'`);
  return key;
}
