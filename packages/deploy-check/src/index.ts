/** Parsers for the deployment files, shared by the tests: see test/. */
export { type DockerInstruction, parseDockerfile } from './dockerfile.ts';
