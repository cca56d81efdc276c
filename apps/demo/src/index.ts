/** The demo business website (apps/demo): `buildDemoApp` for tests and embedding, `startDemo` to listen. */
export { buildDemoApp, type DemoOptions } from './app.js';
export { startDemo, type RunningDemo } from './serve.js';
