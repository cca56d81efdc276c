import { type ServerParams, exportPublicKey, generateSigningKeyPair, serverParamsStatement, sign } from '@tapin/protocol';
import { describe, expect, it } from 'vitest';
import { checkServerParams } from './enrol.js';

async function signedParams(overrides: Partial<ServerParams> = {}) {
  const pair = await generateSigningKeyPair();
  const params: ServerParams = {
    sid: 'server-one-sid', name: 'Bank', logo: '', publicUrl: 'https://bank.example', serverpk: await exportPublicKey(pair.publicKey),
    pingTime: 0, pinTimeout: 0, serverFlags: [], issued: 1, ...overrides,
  };
  return { params, signature: await sign(pair.privateKey, serverParamsStatement(params)), pair };
}

describe('checkServerParams', () => {
  it('accepts parameters signed by the key they carry', async () => {
    const signed = await signedParams();
    await expect(checkServerParams(signed, 'server-one-sid')).resolves.toBeUndefined();
    await expect(checkServerParams(signed, 'server-one-sid', signed.params.serverpk)).resolves.toBeUndefined();
  });

  it('refuses tampered parameters, another sid, or a key other than the pinned one (server_auth_failed, 48)', async () => {
    const signed = await signedParams();
    const tampered = { ...signed, params: { ...signed.params, name: 'Evil bank' } };
    await expect(checkServerParams(tampered, 'server-one-sid')).rejects.toMatchObject({ code: 'server_auth_failed', userError: 48 });
    await expect(checkServerParams(signed, 'another-sid-x')).rejects.toMatchObject({ code: 'server_auth_failed' });
    const other = await signedParams();
    await expect(checkServerParams(other, 'server-one-sid', signed.params.serverpk)).rejects.toMatchObject({ code: 'server_auth_failed' });
  });
});
