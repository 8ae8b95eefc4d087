/**
 * DSSE (Dead Simple Signing Envelope, github.com/secure-systems-lab/dsse, protocol v1): the
 * signature covers the pre-authentication encoding (PAE) of the payload type and the payload
 * bytes, never the JSON around them, so re-serialising the envelope cannot change what was signed.
 * Signatures are Ed25519 through node:crypto (docs/provenance.md).
 */
import { sign, verify, type KeyObject } from 'node:crypto';
import { keyIdOf } from './signing-keys';

/** The payload type of an in-toto statement in a DSSE envelope. */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export interface DsseSignature {
  /** Which key signed: the farm key's id (`GET /v1/keys`), so older sets verify after a rotation. */
  keyid: string;
  /** Base64 of the Ed25519 signature of PAE(payloadType, payload). */
  sig: string;
}

export interface DsseEnvelope {
  /** Base64 of the payload bytes (the statement's JSON). */
  payload: string;
  payloadType: string;
  signatures: DsseSignature[];
}

/** `DSSEv1 <len(type)> <type> <len(body)> <body>`, lengths in bytes as ASCII decimals. */
export function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `, 'utf8'), type, Buffer.from(` ${payload.length} `, 'utf8'), payload]);
}

export function signEnvelope(payload: Buffer, payloadType: string, privateKey: KeyObject): DsseEnvelope {
  const sig = sign(null, pae(payloadType, payload), privateKey);
  return { payload: payload.toString('base64'), payloadType, signatures: [{ keyid: keyIdOf(privateKey), sig: sig.toString('base64') }] };
}

export class EnvelopeError extends Error {
  override name = 'EnvelopeError';
}

/**
 * The payload bytes (and the signer's key id), once a signature by one of `keys` (keyid -> public key) verifies over them.
 * Throws EnvelopeError naming what did not hold.
 */
export function openEnvelope(envelope: unknown, keys: ReadonlyMap<string, KeyObject>, expectedType = IN_TOTO_PAYLOAD_TYPE): { payload: Buffer; keyid: string } {
  const env = checkShape(envelope);
  if (env.payloadType !== expectedType) {
    throw new EnvelopeError(`Expected payloadType ${expectedType} but received ${JSON.stringify(env.payloadType)}`);
  }
  const payload = Buffer.from(env.payload, 'base64');
  const message = pae(env.payloadType, payload);
  const unknown: string[] = [];
  for (const { keyid, sig } of env.signatures) {
    const key = keys.get(keyid);
    if (!key) {
      unknown.push(keyid);
      continue;
    }
    if (verify(null, message, key, Buffer.from(sig, 'base64'))) return { payload, keyid };
    throw new EnvelopeError(`Expected a valid signature by key ${keyid} but the signature does not match the payload: the statement or the envelope was changed`);
  }
  throw new EnvelopeError(
    `Expected a signature by one of the keys ${[...keys.keys()].join(', ') || '(none given)'} but the envelope is signed by ${unknown.join(', ')}; ` +
      'give the farm key that signed it (kiln keys lists them all, older ones included)',
  );
}

function checkShape(value: unknown): DsseEnvelope {
  const env = value as Partial<DsseEnvelope> | null;
  const ok =
    !!env &&
    typeof env === 'object' &&
    typeof env.payload === 'string' &&
    typeof env.payloadType === 'string' &&
    Array.isArray(env.signatures) &&
    env.signatures.length > 0 &&
    env.signatures.every((s) => s && typeof s.keyid === 'string' && typeof s.sig === 'string');
  if (!ok) {
    throw new EnvelopeError('Expected a DSSE envelope ({ payload, payloadType, signatures: [{ keyid, sig }] }) but received something else');
  }
  return env as DsseEnvelope;
}
