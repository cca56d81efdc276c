import { describe, expect, it } from 'vitest';
import { ERRORS, isErrorCode, TapinError, type ErrorCode } from './errors.js';

const codes = Object.keys(ERRORS) as ErrorCode[];

describe('error registry', () => {
  it('gives every code an HTTP error status and a message', () => {
    for (const code of codes) {
      const entry = ERRORS[code];
      expect(Number.isInteger(entry.status), code).toBe(true);
      expect(entry.status, code).toBeGreaterThanOrEqual(400);
      expect(entry.status, code).toBeLessThan(600);
      expect(entry.message.length, code).toBeGreaterThan(0);
      expect(code).toMatch(/^[a-z][a-z0-9_]*$/);
    }
  });

  it('has the SDK user error numbers', () => {
    const numbers = new Set(codes.map((c) => new TapinError(c).userError).filter((n) => n !== undefined));
    for (const n of [32, 33, 34, 41, 48, 49, 50, 51, 52, 70]) expect(numbers.has(n), String(n)).toBe(true);
    expect(new TapinError('qr_parse_error').userError).toBe(32);
    expect(new TapinError('qr_unknown_type').userError).toBe(33);
    expect(new TapinError('connection_error').userError).toBe(70);
    expect(new TapinError('bad_request').userError).toBeUndefined();
  });

  it('isErrorCode knows the registry and nothing else', () => {
    for (const code of codes) expect(isErrorCode(code)).toBe(true);
    for (const value of ['nope', 'toString', '__proto__', 'constructor', '', 42, null, undefined]) {
      expect(isErrorCode(value), String(value)).toBe(false);
    }
  });
});

describe('TapinError', () => {
  it('is an Error with code, status and the registry message', () => {
    const e = new TapinError('session_expired');
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(TapinError);
    expect(e.name).toBe('TapinError');
    expect(e.code).toBe('session_expired');
    expect(e.status).toBe(410);
    expect(e.message).toBe(ERRORS.session_expired.message);
    expect(e.details).toBeUndefined();
    expect(e.stack).toBeTypeOf('string');
  });

  it('toJSON is {error: {code, message}} and adds details only when given', () => {
    expect(new TapinError('unauthorized').toJSON()).toEqual({ error: { code: 'unauthorized', message: ERRORS.unauthorized.message } });
    const withDetails = new TapinError('pin_wrong', 'Wrong PIN, 3 attempts left.', { attemptsLeft: 3, blocked: false });
    expect(withDetails.toJSON()).toEqual({ error: { code: 'pin_wrong', message: 'Wrong PIN, 3 attempts left.', details: { attemptsLeft: 3, blocked: false } } });
    expect(JSON.parse(JSON.stringify(withDetails))).toEqual(withDetails.toJSON());
    expect(Object.keys(new TapinError('internal').toJSON().error)).toEqual(['code', 'message']);
  });
});
