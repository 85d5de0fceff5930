import { type DestinationStream, type Logger, pino } from 'pino';
import pretty from 'pino-pretty';
import type { LogLevel } from './runtime-contract.ts';

export interface LoggerOptions {
  /** The deployable writing the log (`switchboard`, `engine`, `sip-core`, `api`, `numbering`). */
  app: string;
  level: LogLevel;
  /** Human-readable lines instead of JSON; default: when stdout is a terminal. */
  pretty?: boolean;
  /** Where lines go; default stdout. */
  destination?: DestinationStream;
}

/**
 * The one pino root logger of a process. JSON lines (one event per line) for log collectors; on a terminal,
 * pino-pretty's readable lines with ISO 8601 times and `app/component` in front of the message.
 *
 * Children that name the same key again (the launcher tags a component, the component tags its parts) would
 * repeat the key in the JSON line; children are rewritten so each key appears once: `component` values
 * nest as `engine/sip-transport`, any other repeated key keeps the innermost value.
 */
export function createLogger(options: LoggerOptions): Logger {
  const usePretty = options.pretty ?? process.stdout.isTTY === true;
  const settings = { level: options.level, base: { app: options.app }, onChild: mergeRepeatedBindings };
  if (!usePretty) return options.destination ? pino(settings, options.destination) : pino(settings);
  const lines = pretty({
    destination: options.destination ?? 1,
    sync: true,
    colorize: options.destination === undefined && process.stdout.isTTY === true,
    translateTime: "UTC:yyyy-mm-dd'T'HH:MM:ss.l'Z'",
    ignore: 'pid,hostname,app,component',
    messageFormat: '{app}{if component}/{component}{end}: {msg}',
  });
  return pino(settings, lines);
}

const CHINDINGS = pino.symbols.chindingsSym;

/**
 * pino keeps a child's bindings as a JSON fragment (`,"key":value,...`) appended to its parent's; a key bound
 * twice is then written twice. This rebuilds the fragment with each key once.
 */
function mergeRepeatedBindings(child: Logger): void {
  const holder = child as unknown as Record<symbol, unknown>;
  const fragment = holder[CHINDINGS];
  if (typeof fragment !== 'string') return;
  const entries = bindingEntries(fragment);
  if (new Set(entries.map(([key]) => key)).size === entries.length) return;
  const merged = new Map<string, string>();
  for (const [key, value] of entries) {
    const outer = merged.get(key);
    if (key === 'component' && outer?.startsWith('"') && value.startsWith('"')) {
      merged.set(key, JSON.stringify(`${JSON.parse(outer)}/${JSON.parse(value)}`));
    } else {
      merged.delete(key);
      merged.set(key, value);
    }
  }
  holder[CHINDINGS] = [...merged].map(([key, value]) => `,"${key}":${value}`).join('');
}

/** The `[key, raw JSON value]` pairs of a bindings fragment, in order, repeated keys included. */
function bindingEntries(fragment: string): Array<[string, string]> {
  const raw: string[] = [];
  let depth = 0;
  let inString = false;
  let start = 1;
  for (let i = 1; i < fragment.length; i++) {
    const c = fragment[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 0) {
      raw.push(fragment.slice(start, i));
      start = i + 1;
    }
  }
  raw.push(fragment.slice(start));
  return raw
    .filter((entry) => entry.length > 0)
    .map((entry) => {
      const keyEnd = entry.indexOf('":');
      return [entry.slice(1, keyEnd), entry.slice(keyEnd + 2)];
    });
}
