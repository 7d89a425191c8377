/**
 * The Confluent wire format (Confluent Schema Registry docs, "Wire format"): magic byte 0x00,
 * 4-byte big-endian schema id, Avro binary.
 */
import { describe, expect, it } from 'vitest';
import { frame, FrameError, unframe } from './confluent-wire.ts';
import { schemaType } from '../../../schemas/registry.ts';

describe('Confluent wire format', () => {
  it('puts the magic byte and the big-endian id before the payload', () => {
    expect(frame(1, Buffer.from([0xaa, 0xbb]))).toEqual(Buffer.from([0x00, 0x00, 0x00, 0x00, 0x01, 0xaa, 0xbb]));
    expect(frame(0x01020304, Buffer.alloc(0))).toEqual(Buffer.from([0x00, 0x01, 0x02, 0x03, 0x04]));
  });

  it('round-trips an Avro record, the payload untouched', () => {
    const type = schemaType('QueueControl');
    const value = { outboundId: 'i:example.test', action: 'drop', topic: 'mail.outbound', partition: 2, offset: 41, at: 1_700_000_000_000, by: 'ops', bounce: false };
    const payload = type.toBuffer(value);
    const { id, payload: back } = unframe(frame(2_147_483_647, payload));
    expect(id).toBe(2_147_483_647);
    expect(back.equals(payload)).toBe(true);
    expect(type.fromBuffer(back)).toMatchObject({ outboundId: 'i:example.test', offset: 41 });
  });

  it('refuses a value without the frame: too short, another magic byte, a negative id', () => {
    expect(() => unframe(Buffer.from([0x00, 0x00, 0x01]))).toThrow(FrameError);
    expect(() => unframe(Buffer.from([0x00, 0x00, 0x01]))).toThrow(/shorter than the 5-byte schema frame/);
    // Raw Avro (a string field first: its zig-zag length) is not a frame.
    expect(() => unframe(Buffer.from([0x0e, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66]))).toThrow(/starts with 0x0e, not the schema frame's magic byte 0x00/);
    expect(() => unframe(Buffer.from([0x00, 0xff, 0xff, 0xff, 0xff, 0x01]))).toThrow(/negative/);
    expect(() => frame(-1, Buffer.alloc(0))).toThrow(RangeError);
    expect(() => frame(2 ** 31, Buffer.alloc(0))).toThrow(RangeError);
  });
});
