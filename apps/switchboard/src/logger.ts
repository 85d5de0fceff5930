import { type Logger, pino } from 'pino';
import type { LogLevel } from './config.ts';

/** One pino root logger per process; components get children tagged with their name. */
export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { app: 'switchboard' } });
}
