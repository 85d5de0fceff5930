export { selfSignedCertificate } from '@switchboard/testkit';
