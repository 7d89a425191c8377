/**
 * Bytes in a MIME charset to text (RFC 2046 §4.1.2), through the WHATWG TextDecoder: unknown
 * or unsupported charsets fall back to UTF-8, then Latin-1 never fails. Never throws.
 */
const decoders = new Map<string, TextDecoder | null>();

function decoderFor(charset: string): TextDecoder | null {
  const key = charset.trim().toLowerCase();
  let decoder = decoders.get(key);
  if (decoder === undefined) {
    try {
      // us-ascii is a label of windows-1252 in the Encoding Standard: 8-bit bytes still decode.
      decoder = new TextDecoder(key === 'utf8' ? 'utf-8' : key);
    } catch {
      decoder = null;
    }
    if (decoders.size < 256) decoders.set(key, decoder);
  }
  return decoder;
}

export function decodeCharset(bytes: Uint8Array, charset: string | undefined): string {
  const decoder = decoderFor(charset || 'utf-8') ?? decoderFor('utf-8');
  try {
    return decoder ? decoder.decode(bytes) : Buffer.from(bytes).toString('latin1');
  } catch {
    return Buffer.from(bytes).toString('latin1');
  }
}
