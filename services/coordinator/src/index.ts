export { createCoordinator, type Coordinator } from './coordinator.js';
export { loadConfig, type CoordinatorConfig } from './config.js';
