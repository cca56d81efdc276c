import { randomBytes, randomInt } from 'node:crypto';
import {
  type EnrolRequest, type EnrolResponse, type SignedServerParams, OTP_MAX_REF, TapinError, buildEnrolUrl,
  enrolStatement, isValidPublicKey, randomId, sha256Base64url, toBase64url,
} from '@tapin/protocol';
import { DuplicateKeyError } from '../store/store.js';
import type { ServiceContext } from './context.js';
import { requireServer, signedServerParams } from './virtual-servers.js';

/** Starts an enrolment: a one-use token, valid for `enrolTokenMs`, of which only the hash is stored. */
export async function createEnrolment(ctx: ServiceContext, sid: string, name: string, userid?: string): Promise<{ data: string; expires: number }> {
  await requireServer(ctx, sid);
  const token = randomId(24);
  const expires = ctx.now() + ctx.lifetimes.enrolTokenMs;
  await ctx.store.createEnrolToken({ token_hash: sha256Base64url(token), sid, name, userid: userid ?? null, expires, used: 0 });
  return { data: buildEnrolUrl(ctx.publicUrl, sid, token), expires };
}

async function liveToken(ctx: ServiceContext, sid: string, token: string) {
  const row = await ctx.store.getEnrolToken(sha256Base64url(token));
  if (!row || row.sid !== sid || row.used || row.expires <= ctx.now()) throw new TapinError('enrol_token_invalid');
  return row;
}

/** What the phone shows before it enrols: the signed server parameters and the suggested account name. */
export async function enrolInfo(ctx: ServiceContext, sid: string, token: string): Promise<{ name: string; server: SignedServerParams }> {
  const row = await liveToken(ctx, sid, token);
  return { name: row.name, server: await signedServerParams(ctx, await requireServer(ctx, sid)) };
}

export async function enrol(ctx: ServiceContext, sid: string, body: EnrolRequest): Promise<EnrolResponse> {
  const token = await liveToken(ctx, sid, body.token);
  const server = await requireServer(ctx, sid);
  // Ensure both keys are real P-256 points before anything is stored.
  if (!isValidPublicKey(body.authpk) || (body.pinpk !== null && !isValidPublicKey(body.pinpk))) {
    throw new TapinError('bad_request', 'authpk/pinpk must be uncompressed P-256 points (base64url).');
  }
  // Proof of possession: the phone holds the private halves of the keys it registers, for this enrolment only.
  const statement = enrolStatement({
    sid, token: token.token_hash, authpk: body.authpk, pinpk: body.pinpk, description: body.description,
  });
  if (!ctx.keys.verify(body.authpk, statement, body.signature)) throw new TapinError('bad_signature');
  if (body.pinpk !== null && !(body.pinsignature && ctx.keys.verify(body.pinpk, statement, body.pinsignature))) {
    throw new TapinError('bad_signature', 'The second-factor signature does not verify.');
  }
  // One use: only the request that flips `used` goes on.
  if (!(await ctx.store.consumeEnrolToken(token.token_hash, ctx.now()))) throw new TapinError('enrol_token_invalid');

  const accountid = randomId(16);
  const otpkey = randomBytes(32);
  let otpref = 0;
  for (let attempt = 0; ; attempt++) {
    otpref = randomInt(0, OTP_MAX_REF + 1);
    try {
      await ctx.store.createAccount({
        accountid, sid, auth_pk: body.authpk, pin_pk: body.pinpk,
        otp_key_enc: ctx.box.seal(otpkey, `otp-key:${sid}:${accountid}`), otpref,
        description: body.description, client_version: body.clientVersion, userid: token.userid,
        created: ctx.now(), lastlogin: null, lastpin: ctx.now(), pin_failures: 0, blocked: 0, otp_failures: 0, otp_window: null,
      });
      break;
    } catch (err) {
      // otpref is unique per server; a clash among 2^30 values is rare, so a few retries settle it.
      if (!(err instanceof DuplicateKeyError) || attempt >= 5) throw err;
    }
  }
  if (token.userid) await ctx.store.ensureUser(sid, token.userid, ctx.now());
  return { accountid, otpref, otpkey: toBase64url(otpkey), userid: token.userid, server: await signedServerParams(ctx, server) };
}
