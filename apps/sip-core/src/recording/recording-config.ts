import { join } from 'node:path';
import type { RecordingOptions } from './call-recorder.ts';

/**
 * Where recordings come from and go, from the data folder and the environment: `RECORDING_CAPTURE_DIR`
 * (rtpengine's `--recording-dir`; default `$DATA_DIR/recordings`, where the local rtpengine writes),
 * `RECORDINGS_DIR` (the WAV files; default `$DATA_DIR/recordings/calls`, which the API serves) and
 * `RECORDING_ANNOUNCEMENT` (a WAV file on the relay's host played when recording starts; default none).
 */
export function recordingOptionsFrom(
  dataDir: string,
  env: Record<string, string | undefined> = process.env,
): RecordingOptions {
  const announcement = env.RECORDING_ANNOUNCEMENT?.trim();
  return {
    captureDir: env.RECORDING_CAPTURE_DIR?.trim() || join(dataDir, 'recordings'),
    storageDir: env.RECORDINGS_DIR?.trim() || join(dataDir, 'recordings', 'calls'),
    ...(announcement ? { announcementFile: announcement } : {}),
  };
}
