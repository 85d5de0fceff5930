import { describe, expect, it } from 'vitest';
import { type DockerInstruction, parseDockerfile } from '../src/dockerfile.ts';
import { composeAsWritten, readInfra } from './support/files.ts';

const compose = composeAsWritten();
const built = Object.entries(compose.services).filter(([, s]) => s.build !== undefined);
const dockerfiles = [...new Set(built.map(([, s]) => s.build!.dockerfile.replace(/^infra\//, '')))];

/** The image a FROM names, with ARG defaults declared before it substituted. */
function fromImages(instructions: DockerInstruction[]): string[] {
  const args = new Map<string, string>();
  const images: string[] = [];
  for (const { keyword, args: rest } of instructions) {
    if (keyword === 'ARG') {
      const [name = '', value] = rest.split('=');
      if (value !== undefined) args.set(name, value);
    }
    if (keyword === 'FROM') {
      const image = rest.split(/\s+/)[0]!.replace(/\$\{(\w+)\}/g, (_, n: string) => args.get(n) ?? '');
      images.push(image);
    }
  }
  return images;
}

/** Instructions of the last stage (the image that runs). */
function finalStage(instructions: DockerInstruction[]): DockerInstruction[] {
  const start = instructions.map((i) => i.keyword).lastIndexOf('FROM');
  return instructions.slice(start);
}

describe('Dockerfiles', () => {
  it('are what the compose file builds', () => {
    expect(dockerfiles.sort()).toEqual(['Dockerfile', 'rtpengine.Dockerfile']);
    for (const [name, service] of built) {
      if (service.build!.dockerfile === 'infra/Dockerfile') {
        expect(service.build!.args?.PACKAGE, name).toMatch(/^@switchboard\/[a-z-]+$/);
        expect(service.build!.args?.ENTRY, name).toBe('src/main.ts');
      }
    }
  });

  for (const file of dockerfiles) {
    describe(file, () => {
      const instructions = parseDockerfile(readInfra(file));

      it('is multi-stage with every base image pinned to a version', () => {
        const images = fromImages(instructions);
        expect(images.length).toBeGreaterThanOrEqual(2);
        for (const image of images) {
          // Either a released version tag of an upstream image or an earlier stage of this file.
          const stages = instructions
            .filter((i) => i.keyword === 'FROM')
            .map((i) => /\sAS\s+(\S+)/i.exec(i.args)?.[1]);
          if (stages.includes(image)) continue;
          expect(image).toMatch(/^[\w./-]+:\d+(\.\d+)+[\w.-]*$/);
        }
      });

      it('runs as a non-root user', () => {
        const users = finalStage(instructions).filter((i) => i.keyword === 'USER');
        expect(users.length).toBeGreaterThan(0);
        expect(users.at(-1)!.args).not.toMatch(/^(root|0)(:|$)/);
      });

      it('has a health check in the image or in every compose service built from it', () => {
        if (instructions.some((i) => i.keyword === 'HEALTHCHECK')) return;
        for (const [name, service] of built.filter(([, s]) => s.build!.dockerfile.endsWith(file))) {
          expect(service.healthcheck?.test?.length, name).toBeGreaterThan(1);
        }
      });

      it('bakes no secret into the image', () => {
        for (const { keyword, args } of instructions) {
          if (keyword === 'ENV' || keyword === 'ARG')
            expect(args).not.toMatch(/PASSWORD|SECRET|TOKEN|_KEY\b/i);
          if (keyword === 'COPY' || keyword === 'ADD') expect(args).not.toMatch(/\.env\b|\.key\b|\.pem\b/);
        }
      });
    });
  }

  it('builds Node components with pnpm fetch and pnpm deploy onto a slim Node 20 runtime with tsx', () => {
    const instructions = parseDockerfile(readInfra('Dockerfile'));
    const runs = instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    expect(runs.some((r) => /pnpm fetch/.test(r))).toBe(true);
    expect(runs.some((r) => /pnpm --filter "\$\{PACKAGE\}" deploy --prod/.test(r))).toBe(true);
    expect(fromImages(instructions).at(-1)).toMatch(/^node:20\.\d+\.\d+-bookworm-slim$/);
    const final = finalStage(instructions);
    expect(final.some((i) => i.keyword === 'COPY' && /\/opt\/tsx/.test(i.args))).toBe(true);
    expect(final.find((i) => i.keyword === 'CMD')?.args).toContain('tsx/dist/loader.mjs');
  });

  it('keeps dependencies, sources and secrets out of the build context', () => {
    const ignore = readInfra('Dockerfile.dockerignore').split('\n');
    for (const entry of ['**/node_modules', '**/.env', 'infra/tls', '**/data'])
      expect(ignore).toContain(entry);
  });
});
