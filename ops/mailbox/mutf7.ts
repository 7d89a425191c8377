/**
 * IMAP's modified UTF-7 for mailbox names (RFC 3501 §5.1.3), which Maildir++ folder names
 * on disk also use (Courier, Dovecot): printable ASCII stands for itself, `&` is `&-`, and
 * any other run is UTF-16BE in base64 with `,` for `/`, between `&` and `-`.
 */

export function encodeMutf7(name: string): string {
  let out = '';
  let run = '';
  const flush = () => {
    if (run === '') return;
    const utf16 = Buffer.alloc(run.length * 2);
    for (let i = 0; i < run.length; i++) utf16.writeUInt16BE(run.charCodeAt(i), i * 2);
    out += `&${utf16.toString('base64').replace(/=+$/, '').replace(/\//g, ',')}-`;
    run = '';
  };
  for (const ch of name) {
    const code = ch.charCodeAt(0);
    if (code >= 0x20 && code <= 0x7e) {
      flush();
      out += ch === '&' ? '&-' : ch;
    } else {
      run += ch;
    }
  }
  flush();
  return out;
}

/** The inverse of `encodeMutf7`; text that is not valid modified UTF-7 is returned unchanged. */
export function decodeMutf7(text: string): string {
  return text.replace(/&([A-Za-z0-9+,]*)-/g, (whole, b64: string) => {
    if (b64 === '') return '&';
    const bytes = Buffer.from(b64.replace(/,/g, '/'), 'base64');
    if (bytes.length % 2 !== 0) return whole;
    let out = '';
    for (let i = 0; i < bytes.length; i += 2) out += String.fromCharCode(bytes.readUInt16BE(i));
    return out;
  });
}
