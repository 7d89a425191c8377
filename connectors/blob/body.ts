/** Reassembles a stored message's exact bytes from its skeleton and split-off parts. */
import type { BlobStore } from './blob.ts';
import type { BodyRef } from '../store/store.ts';

export async function readMessageBytes(blobs: BlobStore, body: BodyRef): Promise<Buffer> {
  const skeleton = await blobs.get(body.skeletonBlob);
  if (body.parts.length === 0) return skeleton;
  const pieces: Buffer[] = [];
  let at = 0;
  for (const part of body.parts) {
    pieces.push(skeleton.subarray(at, part.offset));
    const bytes = await blobs.get(part.blob);
    if (bytes.length !== part.length) throw new Error(`part ${part.blob}: expected ${part.length} bytes, found ${bytes.length}`);
    pieces.push(bytes);
    at = part.offset;
  }
  pieces.push(skeleton.subarray(at));
  return Buffer.concat(pieces);
}
