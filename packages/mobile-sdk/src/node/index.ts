export { FileStore } from './file-store.js';
