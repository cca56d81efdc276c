// A fast phone for load: the same wire protocol as @tapin/mobile-sdk, with keys as node:crypto KeyObjects
// (native, synchronous signing) and the PIN key derived once per phone instead of once per login.
import { createPrivateKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import {
  DEVICE_HEADERS, derivePinKey, devicePaths, enrolStatement, fromBase64url, hashAnnounceinfo, loginStatement, parseLink,
  requestStatement, sha256Base64url, toBase64url,
} from '@tapin/protocol';
import { ok } from './http.mjs';

const p1363 = (key, message) => toBase64url(sign('sha256', message, { key, dsaEncoding: 'ieee-p1363' }));
const rawPublic = (jwk) => toBase64url(Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]));

export class BenchPhone {
  static async enrol(base, sid, apiKey, pin, userid) {
    const { data } = await ok(base, 'POST', `/v1/servers/${sid}/enrolments`, { json: { name: 'bench', userid }, headers: { authorization: `Bearer ${apiKey}` } });
    const { token } = parseLink(data);
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const authpk = rawPublic(publicKey.export({ format: 'jwk' }));
    const pinKey = await derivePinKey(pin, randomBytes(32), 1000);
    const pub = fromBase64url(pinKey.publicKey);
    const pinKeyObject = createPrivateKey({
      format: 'jwk',
      key: { kty: 'EC', crv: 'P-256', d: toBase64url(pinKey.secretKey), x: toBase64url(pub.slice(1, 33)), y: toBase64url(pub.slice(33)) },
    });
    const statement = enrolStatement({ sid, token: sha256Base64url(token), authpk, pinpk: pinKey.publicKey, description: 'bench' });
    const res = await ok(base, 'POST', devicePaths.enrol(sid), {
      json: { token, authpk, pinpk: pinKey.publicKey, description: 'bench', clientVersion: 'bench', signature: p1363(privateKey, statement), pinsignature: p1363(pinKeyObject, statement) },
    });
    return new BenchPhone(base, sid, res.accountid, privateKey, pinKeyObject, res);
  }

  constructor(base, sid, accountid, authKey, pinKey, enrolment) {
    Object.assign(this, { base, sid, accountid, authKey, pinKey, otpkey: enrolment.otpkey, otpref: enrolment.otpref });
  }

  signedHeaders(method, path) {
    const time = Date.now();
    const reqid = toBase64url(randomBytes(16));
    const statement = requestStatement({ sid: this.sid, accountid: this.accountid, method, path, time, reqid, body: sha256Base64url('') });
    return {
      [DEVICE_HEADERS.account]: this.accountid, [DEVICE_HEADERS.time]: String(time), [DEVICE_HEADERS.reqid]: reqid,
      [DEVICE_HEADERS.signature]: p1363(this.authKey, statement),
    };
  }

  fetch(hsid) {
    const path = devicePaths.fetchSession(this.sid, hsid);
    return ok(this.base, 'POST', path, { headers: this.signedHeaders('POST', path) });
  }

  /** Approve with the auth key and the PIN key: the statement over the one-time challenge, signed twice. */
  answer(session) {
    const statement = loginStatement({
      sid: this.sid, hsid: session.hsid, accountid: this.accountid, challenge: session.challenge, decision: 'approve',
      announceinfo: hashAnnounceinfo(session.announceinfo),
    });
    return ok(this.base, 'POST', devicePaths.answer(this.sid, session.hsid), {
      json: { accountid: this.accountid, decision: 'approve', challenge: session.challenge, signature: p1363(this.authKey, statement), pinsignature: p1363(this.pinKey, statement) },
    });
  }
}
