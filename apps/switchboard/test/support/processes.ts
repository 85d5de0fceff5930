import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A process that runs and is not a zombie (an orphan killed later is reaped by init, not by us). */
export async function running(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The rtpengine a launcher with this data folder started, when it still runs (a killed launcher's outlives it). */
export async function leftRtpengine(dataDir: string): Promise<number | undefined> {
  const file = await readFile(join(dataDir, 'rtpengine.pid'), 'utf8').catch(() => undefined);
  if (!file) return undefined;
  const { pid } = JSON.parse(file) as { pid: number };
  return (await running(pid)) ? pid : undefined;
}
