import { createHash } from 'node:crypto';

/** A strong ETag for a static body the server holds in memory (the login block's bundle, the app's files). */
export const contentEtag = (body: Buffer): string => `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
