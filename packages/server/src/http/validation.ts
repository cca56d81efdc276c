import { Ajv, type Options } from 'ajv';
import type { FastifyInstance } from 'fastify';

/**
 * Two validators: query strings, params and headers arrive as text and are coerced to the schema's types; JSON
 * bodies are taken as sent, so `{"blocked": "true"}` or `{"pingTime": "30"}` is an error, not a guess. Unknown
 * properties are refused everywhere, never silently dropped.
 */
const common: Options = { removeAdditional: false, useDefaults: true, allErrors: false, strict: false };
const strictBodies = new Ajv({ ...common, coerceTypes: false });
const textParts = new Ajv({ ...common, coerceTypes: 'array' });

export function installValidation(app: FastifyInstance): void {
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strictBodies : textParts).compile(schema));
}
