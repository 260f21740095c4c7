export { createCoordinator, type Coordinator } from './coordinator.js';
export { loadConfig, type CoordinatorConfig } from './config.js';
export { runKeygen, activateKey, KeygenFailed, type ActivateKeyOptions, type KeygenTransport, type KeygenResult, type RunKeygenOptions, type KeygenStep, type KeygenProgress } from './keygen.js';
