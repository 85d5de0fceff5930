import type { S3Settings } from '@switchboard/config';
import { LocalStorage } from './local.ts';
import { S3Storage } from './s3.ts';
import type { ObjectStorage } from './storage.ts';

/**
 * The storage of one kind of file: the local folder `localDir` (today's layout under DATA_DIR) unless
 * object storage is set, then the bucket's keys under `S3_PREFIX` + `area`.
 */
export function createStorage(s3: S3Settings | undefined, localDir: string, area: string): ObjectStorage {
  return s3 ? new S3Storage(s3, area) : new LocalStorage(localDir);
}

/** The areas (key prefixes in a bucket, folders under DATA_DIR) of each kind of file. */
export const STORAGE_AREAS = {
  voicemailMessages: 'voicemail/messages',
  voicemailGreetings: 'voicemail/greetings',
  callRecordings: 'recordings/calls',
} as const;
