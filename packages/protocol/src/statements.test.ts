import { describe, expect, it } from 'vitest';
import { utf8Decode } from './encoding.js';
import { derivePinKey, signWithPinKey } from './pin-key.js';
import { exportPublicKey, generateSigningKeyPair, sign, verify } from './signing.js';
import {
  enrolStatement,
  hashAnnounceinfo,
  LABELS,
  loginStatement,
  pinChangeStatement,
  requestStatement,
  serverParamsStatement,
  sha256Base64url,
  type LoginFields,
} from './statements.js';

const login: LoginFields = {
  sid: 'sid-0001',
  hsid: 'h'.repeat(22),
  accountid: 'acct-0001',
  challenge: 'challenge-1',
  decision: 'approve',
  announceinfo: hashAnnounceinfo({ info: { Shop: 'Example' } }),
};

describe('statements', () => {
  it('labels are distinct and versioned', () => {
    const labels = Object.values(LABELS);
    expect(new Set(labels).size).toBe(labels.length);
    for (const label of labels) expect(label).toMatch(/^tapin\/[a-z]+\/1$/);
  });

  it('start with the label and a newline, then canonical JSON', () => {
    expect(utf8Decode(loginStatement(login))).toBe(
      `tapin/login/1\n{"accountid":"acct-0001","announceinfo":"${login.announceinfo}","challenge":"challenge-1","decision":"approve","hsid":"${'h'.repeat(22)}","sid":"sid-0001"}`,
    );
    expect(utf8Decode(enrolStatement({ sid: 's', token: 't', authpk: 'a', pinpk: null, description: 'd' }))).toBe(
      'tapin/enrol/1\n{"authpk":"a","description":"d","pinpk":null,"sid":"s","token":"t"}',
    );
    expect(utf8Decode(requestStatement({ sid: 's', accountid: 'a', method: 'GET', path: '/p', time: 1, reqid: 'r', body: '' }))).toMatch(/^tapin\/request\/1\n\{"accountid"/);
    expect(utf8Decode(pinChangeStatement({ sid: 's', accountid: 'a', oldpinpk: null, pinpk: 'p', extra: 'ignored' } as Parameters<typeof pinChangeStatement>[0]))).toBe(
      'tapin/pin/1\n{"accountid":"a","oldpinpk":null,"pinpk":"p","sid":"s"}',
    );
    expect(utf8Decode(serverParamsStatement({ sid: 's', name: 'n', logo: '', publicUrl: 'u', serverpk: 'k', pingTime: 0, pinTimeout: 0, serverFlags: [], issued: 0 }))).toMatch(/^tapin\/server\/1\n\{"issued":0,/);
  });

  it('do not depend on the order the fields were written in', () => {
    const shuffled: LoginFields = {
      announceinfo: login.announceinfo,
      decision: login.decision,
      challenge: login.challenge,
      accountid: login.accountid,
      hsid: login.hsid,
      sid: login.sid,
    };
    expect(loginStatement(shuffled)).toEqual(loginStatement(login));
  });

  it('a signature over one ceremony does not verify as another, nor with changed fields', async () => {
    const pair = await generateSigningKeyPair();
    const pk = await exportPublicKey(pair.publicKey);
    const sig = await sign(pair.privateKey, loginStatement(login));
    expect(await verify(pk, loginStatement(login), sig)).toBe(true);
    expect(await verify(pk, loginStatement({ ...login, decision: 'decline' }), sig)).toBe(false);
    expect(await verify(pk, loginStatement({ ...login, challenge: 'challenge-2' }), sig)).toBe(false);
    expect(await verify(pk, loginStatement({ ...login, announceinfo: hashAnnounceinfo(null) }), sig)).toBe(false);
    const asRequest = requestStatement({ sid: login.sid, accountid: login.accountid, method: 'POST', path: '/', time: 0, reqid: 'x', body: '' });
    expect(await verify(pk, asRequest, sig)).toBe(false);
  });

  it('the second factor signs the same bytes', async () => {
    const pin = await derivePinKey('1234', new Uint8Array(32), 1000);
    const bytes = loginStatement(login);
    expect(await verify(pin.publicKey, bytes, signWithPinKey(pin.secretKey, bytes))).toBe(true);
  });
});

describe('hashAnnounceinfo', () => {
  it('hashes the canonical JSON, absent as null', () => {
    expect(hashAnnounceinfo(undefined)).toBe(hashAnnounceinfo(null));
    expect(hashAnnounceinfo(null)).toBe(sha256Base64url('null'));
    expect(hashAnnounceinfo({ ip: '1.2.3.4', info: { b: '2', a: '1' } })).toBe(sha256Base64url('{"info":{"a":"1","b":"2"},"ip":"1.2.3.4"}'));
    expect(hashAnnounceinfo({ info: { a: '1' } })).not.toBe(hashAnnounceinfo({ info: { a: '2' } }));
    expect(hashAnnounceinfo({})).not.toBe(hashAnnounceinfo(null));
    expect(hashAnnounceinfo(null)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('sha256Base64url takes text as UTF-8 or bytes', () => {
    expect(sha256Base64url('')).toBe('47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU');
    expect(sha256Base64url(new TextEncoder().encode('é'))).toBe(sha256Base64url('é'));
  });
});
