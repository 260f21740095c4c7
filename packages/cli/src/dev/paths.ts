/** Locations of the service entry points inside this repository (development use only). */
import { fileURLToPath } from 'node:url';

const repo = new URL('../../../../', import.meta.url);
export const SIGNER_MAIN = fileURLToPath(new URL('services/signer/dist/main.js', repo));
export const COORDINATOR_MAIN = fileURLToPath(new URL('services/coordinator/dist/main.js', repo));
