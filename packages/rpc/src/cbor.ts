/**
 * CBOR codec for RPC bodies (RFC 8949) with cbor-x, configured for plain data only: no records, no
 * structured clone extensions; maps decode to objects. Shapes are validated by the callers.
 * @module
 */
import { Decoder, Encoder } from 'cbor-x';
import { WireFormatError } from './errors.js';

const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false, pack: false });
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

export const CBOR_CONTENT_TYPE = 'application/cbor';

export function encodeCbor(value: unknown): Uint8Array {
  return encoder.encode(value);
}

/**
 * Decodes one CBOR item; throws WireFormatError MALFORMED_CBOR on anything unparsable, trailing bytes,
 * or any encoding other than the one {@link encodeCbor} writes for the decoded value. Both ends of
 * the RPC use this codec, so one encoding per message costs nothing, and it closes what the decoder
 * alone lets through (a lone break byte decoding to `{}`, duplicate map keys where the last wins).
 */
export function decodeCbor(bytes: Uint8Array): unknown {
  if (bytes.length === 0) throw new WireFormatError('MALFORMED_CBOR', 'empty body');
  let items: unknown[];
  try {
    items = decoder.decodeMultiple(bytes) as unknown[];
  } catch {
    throw new WireFormatError('MALFORMED_CBOR', 'body is not valid CBOR');
  }
  if (!Array.isArray(items) || items.length !== 1) throw new WireFormatError('MALFORMED_CBOR', 'body must hold exactly one CBOR item');
  if (Buffer.compare(encoder.encode(items[0]), bytes) !== 0) throw new WireFormatError('MALFORMED_CBOR', 'body is not in the encoding this protocol writes');
  return items[0];
}
