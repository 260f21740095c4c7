export { createSigner, type Signer } from './signer.js';
export { loadConfig, type SignerConfig, type PolicyConfig } from './config.js';
export { NonceStore } from './nonce-store.js';
export { createPolicy } from './policy.js';
export { loadKeys, KEY_PACKAGE_FILE, PUBLIC_KEY_PACKAGE_FILE } from './key-store.js';
