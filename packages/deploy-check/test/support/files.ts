import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** The repository's infra/ folder and root. */
export const INFRA = fileURLToPath(new URL('../../../../infra/', import.meta.url));
export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

export const readInfra = (name: string): string => readFileSync(`${INFRA}${name}`, 'utf8');

/** KEY=value lines of an env file (no quoting, as .env.example and gen-secrets.sh write them). */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}

export interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  restart?: string;
  healthcheck?: { test: string[] };
  network_mode?: string;
  profiles?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  command?: string[];
  depends_on?: Record<string, { condition: string }>;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
}

/** The compose file as written (merge keys applied, variables not interpolated). */
export function composeAsWritten(): ComposeFile {
  return parse(readInfra('docker-compose.yml'), { merge: true }) as ComposeFile;
}

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** docker-compose (1.29, Debian) on infra/docker-compose.yml with an env file; nothing is started. */
export function dockerCompose(envFile: string, args: string[], env: Record<string, string> = {}): Run {
  const result = spawnSync(
    'docker-compose',
    ['-f', `${INFRA}docker-compose.yml`, '--env-file', envFile, ...args],
    // COMPOSE_PROFILES from the caller's environment would override the env file's.
    {
      encoding: 'utf8',
      timeout: 60_000,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    },
  );
  return {
    status: result.status,
    stdout: result.stdout ?? '',
    stderr: result.stderr ?? String(result.error ?? ''),
  };
}
