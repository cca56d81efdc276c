import { type DemoOptions, buildDemoApp } from './app.js';

export interface RunningDemo {
  url: string;
  close(): Promise<void>;
}

/** Builds the demo site and listens (port 0 = any free port). */
export async function startDemo(options: DemoOptions & { port: number; host: string }): Promise<RunningDemo> {
  const app = await buildDemoApp(options);
  await app.listen({ port: options.port, host: options.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host === '0.0.0.0' || options.host === '::' ? 'localhost' : options.host;
  return { url: `http://${host}:${port}`, close: () => app.close() };
}
