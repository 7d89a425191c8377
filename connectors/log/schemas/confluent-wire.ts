/**
 * The Confluent wire format of a record value framed with its writer schema's registry id:
 * byte 0 is the magic byte 0x00, bytes 1–4 the schema id (big-endian, signed 32-bit), then the
 * Avro binary encoding of the value (Confluent Schema Registry, "Wire format"). Apicurio
 * Registry's Confluent-compatible API (/apis/ccompat/v7) hands out ids for exactly this use.
 */

export const MAGIC_BYTE = 0x00;
export const HEADER_BYTES = 5;

/** A value that does not carry the frame: too short, or another magic byte. */
export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

/** `payload` (Avro binary) framed with schema `id`. */
export function frame(id: number, payload: Buffer): Buffer {
  if (!Number.isInteger(id) || id < 0 || id > 0x7fffffff) throw new RangeError(`schema id out of range: ${id}`);
  const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  out[0] = MAGIC_BYTE;
  out.writeInt32BE(id, 1);
  payload.copy(out, HEADER_BYTES);
  return out;
}

/** The schema id and the Avro payload of a framed value (the payload shares `value`'s memory). */
export function unframe(value: Buffer): { id: number; payload: Buffer } {
  if (value.length < HEADER_BYTES) throw new FrameError(`value of ${value.length} byte(s) is shorter than the ${HEADER_BYTES}-byte schema frame`);
  if (value[0] !== MAGIC_BYTE) throw new FrameError(`value starts with 0x${value[0].toString(16).padStart(2, '0')}, not the schema frame's magic byte 0x00`);
  const id = value.readInt32BE(1);
  if (id < 0) throw new FrameError(`schema id ${id} in the frame is negative`);
  return { id, payload: value.subarray(HEADER_BYTES) };
}
