/**
 * Byte sizes in stage configs: a number of bytes, or a string such as '128KiB', '1MB', '512 k'.
 * IEC units (KiB, MiB, GiB) are powers of 1024, SI units (kB/KB, MB, GB) powers of 1000, and the
 * bare letters K, M, G powers of 1024 (as in most mail-server configs).
 */
import { z } from 'zod';

const UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1024,
  kib: 1024,
  kb: 1000,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  mb: 1000 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  gb: 1000 ** 3,
};

/** The number of bytes `value` names, or null when it is not a size. */
export function parseByteSize(value: number | string): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  if (!m) return null;
  const unit = UNITS[m[2].toLowerCase()];
  if (unit === undefined) return null;
  const bytes = Math.round(Number(m[1]) * unit);
  return Number.isSafeInteger(bytes) ? bytes : null;
}

/** A zod schema accepting a byte size as number or string, giving the number of bytes. */
export function byteSize(): z.ZodType<number, number | string> {
  return z.union([z.number(), z.string()]).transform((value, ctx) => {
    const bytes = parseByteSize(value);
    if (bytes === null) {
      ctx.addIssue({ code: 'custom', message: `not a byte size: ${JSON.stringify(value)} (e.g. 131072, '128KiB', '1MB')` });
      return z.NEVER;
    }
    return bytes;
  });
}
