export { createSigner, type Signer } from './signer.js';
export { loadConfig, type SignerConfig, type PolicyConfig } from './config.js';
