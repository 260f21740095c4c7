/**
 * The relay: frostd's JSON-HTTPS API (XEdDSA login, sessions, send/receive queues) with push delivery
 * over WebSocket and long polling, state in memory or in a Redis-protocol store. The client side
 * (XEdDSA signing, a typed client) is `@hoarfrost/relay/client`.
 * @module
 */
export { createRelay, createStore, type Relay, type RelayOptions } from './relay.js';
export { loadConfig, type RelayConfig, type RateClass } from './config.js';
export { RelayError, STATUS, WIRE, FROSTD_VARIANTS, errorBody, type RelayErrorCode, type ErrorBody } from './errors.js';
export { MemoryStore } from './memory-store.js';
export { RedisStore, type RedisStoreOptions } from './redis-store.js';
export { COORDINATOR_QUEUE, systemClock, type Clock, type RelayStore, type RelayEvent, type SessionRecord, type QueuedMessage, type StoreStats } from './store.js';
export { ENDPOINTS, PUSH_PATH, normalizeUuid } from './wire.js';
export { PUSH_CLOSE } from './push.js';
export { montgomeryToEdwards, xeddsaSign, xeddsaVerify, generateX25519KeyPair, x25519PublicKey } from './xeddsa.js';
