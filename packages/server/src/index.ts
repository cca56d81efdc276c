export { startServer, type ServeOptions, type RunningServer } from './server.js';
export { createContext, type ContextOptions } from './context-factory.js';
export { buildApp } from './http/app.js';
export { openDatabase } from './db/database.js';
export { KyselyStore } from './store/kysely-store.js';
export type { Store } from './store/store.js';
export { InProcessEventBus, type EventBus, type SessionEvent } from './services/event-bus.js';
export { createVirtualServer, createApiKey } from './services/virtual-servers.js';
