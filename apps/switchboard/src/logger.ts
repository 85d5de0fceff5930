import { createLogger as createProcessLogger, type LogLevel } from '@switchboard/config';
import type { Logger } from 'pino';

/** One pino root logger per process; components get children tagged with their name (`component`). */
export function createLogger(level: LogLevel): Logger {
  return createProcessLogger({ app: 'switchboard', level });
}
