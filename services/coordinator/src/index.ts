export { createCoordinator, type Coordinator } from './coordinator.js';
export { loadConfig, type CoordinatorConfig } from './config.js';
export { CircuitBreaker } from './breaker.js';
export { decodeBase64Any } from './request.js';
export { ApiError, STATUS } from './errors.js';
