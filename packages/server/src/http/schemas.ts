import { ErrorBodySchema, Sid } from '@tapin/protocol';
import Type from 'typebox';

/** Route-schema pieces shared by the HTTP plugins. */
export const errors = { '4xx': ErrorBodySchema, '5xx': ErrorBodySchema } as const;
export const SidParams = Type.Object({ sid: Sid });
export const NonceHeader = Type.Object({
  'x-nonce': Type.Optional(Type.String({ description: 'The session identifier: 22–128 chars of base64url or hex, ≥128 random bits. Never put it in a URL.' })),
});
export const bearer = [{ apiKey: [] as string[] }];
