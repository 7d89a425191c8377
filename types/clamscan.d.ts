// The part of `clamscan` (no types of its own) that connectors/scan/clamd.ts uses.
declare module 'clamscan' {
  import type { Readable } from 'node:stream';
  interface ScanResult {
    isInfected: boolean | null;
    viruses: string[];
    file: string | null;
    resultString?: string;
    timeout?: boolean;
  }
  class NodeClam {
    init(options: Record<string, unknown>): Promise<NodeClam>;
    scanStream(stream: Readable): Promise<ScanResult>;
  }
  export default NodeClam;
}
