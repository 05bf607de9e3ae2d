/**
 * Key-set envelope: the SEAL-format objects a server needs (parameters plus evaluation keys) in one binary
 * blob, for HTTP uploads and pool jobs. Layout (little-endian):
 *   "HFKS" | u8 version=1 | u8 sectionCount | then per section: u8 tag | u32 byteLength | bytes
 * Each section holds exactly one SEAL object as SEAL serialized it (any compression, seeded or not).
 */
import { HeftyError } from '../errors.ts';

export interface KeySetBundle {
  readonly params: Uint8Array;
  readonly publicKey?: Uint8Array;
  readonly relinKeys?: Uint8Array;
  readonly galoisKeys?: Uint8Array;
  /** Only clients keep this; decodeKeySet refuses it unless explicitly allowed. */
  readonly secretKey?: Uint8Array;
}

const MAGIC = [0x48, 0x46, 0x4b, 0x53]; // "HFKS"
const VERSION = 1;
const SECTION_TAGS = { params: 1, publicKey: 2, relinKeys: 3, galoisKeys: 4, secretKey: 5 } as const;
type SectionName = keyof typeof SECTION_TAGS;
const NAMES_BY_TAG = new Map(Object.entries(SECTION_TAGS).map(([name, tag]) => [tag as number, name as SectionName]));

/** Largest section accepted; galois keys for N=32768 with many steps are the biggest legitimate objects. */
export const MAX_SECTION_BYTES = 1 << 30;

export function encodeKeySet(bundle: KeySetBundle): Uint8Array {
  if (bundle === null || typeof bundle !== 'object')
    throw new HeftyError('E_INVALID_ARGUMENT', 'encodeKeySet needs a key-set bundle');
  const sections = (Object.keys(SECTION_TAGS) as SectionName[])
    .filter((name) => bundle[name] !== undefined)
    .map((name) => [SECTION_TAGS[name], bundle[name] as Uint8Array] as const);
  if (!bundle.params) throw new HeftyError('E_INVALID_ARGUMENT', 'a key set needs its parameters');
  const total = 6 + sections.reduce((sum, [, bytes]) => sum + 5 + bytes.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[4] = VERSION;
  out[5] = sections.length;
  let offset = 6;
  for (const [tag, bytes] of sections) {
    out[offset] = tag;
    view.setUint32(offset + 1, bytes.length, true);
    out.set(bytes, offset + 5);
    offset += 5 + bytes.length;
  }
  return out;
}

export function isKeySetEnvelope(bytes: Uint8Array): boolean {
  return bytes instanceof Uint8Array && bytes.length >= 4 && MAGIC.every((b, i) => bytes[i] === b);
}

function bad(message: string): never {
  throw new HeftyError('E_BAD_SERIALIZATION', `key set: ${message}`);
}

export function decodeKeySet(bytes: Uint8Array, options: { allowSecretKey?: boolean } = {}): KeySetBundle {
  if (!(bytes instanceof Uint8Array)) bad('expected bytes');
  if (bytes.length < 6 || !isKeySetEnvelope(bytes)) bad('missing HFKS magic');
  if (bytes[4] !== VERSION) bad(`unsupported version ${bytes[4]}`);
  const count = bytes[5];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const found: Partial<Record<SectionName, Uint8Array>> = {};
  let offset = 6;
  for (let i = 0; i < count; i++) {
    if (offset + 5 > bytes.length) bad('truncated section header');
    const name = NAMES_BY_TAG.get(bytes[offset]);
    if (name === undefined) bad(`unknown section tag ${bytes[offset]}`);
    const length = view.getUint32(offset + 1, true);
    if (length > MAX_SECTION_BYTES || offset + 5 + length > bytes.length) bad(`section ${name} overruns the envelope`);
    if (found[name]) bad(`duplicate section ${name}`);
    found[name] = bytes.subarray(offset + 5, offset + 5 + length);
    offset += 5 + length;
  }
  if (offset !== bytes.length) bad('trailing bytes after the last section');
  if (!found.params) bad('no parameters section');
  if (found.secretKey && !options.allowSecretKey) {
    throw new HeftyError('E_SECRET_KEY_REFUSED', 'key sets sent for evaluation must not contain a secret key');
  }
  return found as KeySetBundle;
}
