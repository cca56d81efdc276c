export { IndexedDbStore } from './indexeddb-store.js';
