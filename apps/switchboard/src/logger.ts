import type { LogLevel } from '@switchboard/config';
import { type Logger, pino } from 'pino';

/** One pino root logger per process; components get children tagged with their name. */
export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { app: 'switchboard' } });
}
