import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';

describe('canonicalJson', () => {
  it('writes scalars as JSON.stringify does', () => {
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson(true)).toBe('true');
    expect(canonicalJson(false)).toBe('false');
    expect(canonicalJson(0)).toBe('0');
    expect(canonicalJson(-0)).toBe('0');
    expect(canonicalJson(1.5)).toBe('1.5');
    expect(canonicalJson(1e21)).toBe('1e+21');
    expect(canonicalJson(1767225600000)).toBe('1767225600000');
    expect(canonicalJson('a"b\\c\n\u0001é€😀')).toBe(JSON.stringify('a"b\\c\n\u0001é€😀'));
  });

  it('sorts keys, without whitespace', () => {
    expect(canonicalJson({ b: 1, a: 2, c: 3 })).toBe('{"a":2,"b":1,"c":3}');
    expect(canonicalJson({ b: 1, a: 2 })).toBe(canonicalJson({ a: 2, b: 1 }));
  });

  it('sorts by UTF-16 code units, not by locale', () => {
    // Upper case before lower case, digits before letters, "_" between them, a prefix first,
    // and an astral character (surrogate 0xD83D) before U+FFFD.
    expect(canonicalJson({ b: 0, B: 0, _: 0, '1': 0, a: 0, ab: 0, '\ufffd': 0, '😀': 0, 'é': 0 })).toBe(
      '{"1":0,"B":0,"_":0,"a":0,"ab":0,"b":0,"é":0,"😀":0,"\ufffd":0}',
    );
  });

  it('sorts nested objects and keeps array order', () => {
    const value = { z: [3, 1, { y: 1, x: [{ b: 1, a: 0 }] }], a: { d: null, c: { f: false, e: 'x' } } };
    expect(canonicalJson(value)).toBe('{"a":{"c":{"e":"x","f":false},"d":null},"z":[3,1,{"x":[{"a":0,"b":1}],"y":1}]}');
    expect(JSON.parse(canonicalJson(value))).toEqual(value);
  });

  it('drops undefined object members, like JSON.stringify', () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(canonicalJson({})).toBe('{}');
    expect(canonicalJson([])).toBe('[]');
  });

  it('refuses what JSON cannot carry faithfully', () => {
    expect(() => canonicalJson(Number.NaN)).toThrow(TypeError);
    expect(() => canonicalJson(Number.POSITIVE_INFINITY)).toThrow(TypeError);
    expect(() => canonicalJson({ a: Number.NEGATIVE_INFINITY })).toThrow(TypeError);
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
    expect(() => canonicalJson([undefined])).toThrow(TypeError);
    expect(() => canonicalJson(10n)).toThrow(TypeError);
    expect(() => canonicalJson(() => 1)).toThrow(TypeError);
    expect(() => canonicalJson(Symbol('x'))).toThrow(TypeError);
  });

  it('agrees with JSON.stringify on data whose keys are already sorted', () => {
    const value = { a: [1, 'two', null, true, { b: -3.25 }], b: 'x', c: { d: [] } };
    expect(canonicalJson(value)).toBe(JSON.stringify(value));
  });
});
