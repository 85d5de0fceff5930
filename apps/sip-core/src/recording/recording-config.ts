import { join } from 'node:path';
import type { RecordingOptions } from './call-recorder.ts';
import { validDtmfCode } from './dtmf-code.ts';

/**
 * Where recordings come from and go, from the data folder and the environment: `RECORDING_CAPTURE_DIR`
 * (rtpengine's `--recording-dir`; default `$DATA_DIR/recordings`, where the local rtpengine writes),
 * `RECORDINGS_DIR` (the WAV files; default `$DATA_DIR/recordings/calls`, which the API serves),
 * `RECORDING_ANNOUNCEMENT` (a WAV file on the relay's host played when recording starts; with the
 * launcher's `local` rtpengine, which reads this host's files, default the generated prompt
 * `$DATA_DIR/prompts/.../recording-announcement.wav`; otherwise none), `RECORDING_DTMF_CODE` (the
 * on-demand code, default `*1`). The parties' RFC 4733 keys arrive on rtpengine's DTMF feed
 * (RTPENGINE_DTMF_LISTEN); SIP INFO keys always count.
 */
export function recordingOptionsFrom(
  dataDir: string,
  env: Record<string, string | undefined> = process.env,
): RecordingOptions {
  const announcement = env.RECORDING_ANNOUNCEMENT?.trim();
  const code = env.RECORDING_DTMF_CODE?.trim().toUpperCase();
  if (code && !validDtmfCode(code))
    throw new Error(`RECORDING_DTMF_CODE: expected 1-12 keys of 0-9, *, #, A-D, got "${code}"`);
  return {
    captureDir: env.RECORDING_CAPTURE_DIR?.trim() || join(dataDir, 'recordings'),
    storageDir: env.RECORDINGS_DIR?.trim() || join(dataDir, 'recordings', 'calls'),
    ...(announcement
      ? { announcementFile: announcement }
      : { announcementPrompts: join(dataDir, 'prompts') }),
    ...(code ? { onDemandCode: code } : {}),
  };
}
