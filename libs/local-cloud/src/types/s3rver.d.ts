// s3rver ships no type declarations; this covers the part of its API we use.
declare module 's3rver' {
  import type { Server } from 'node:http';
  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory?: string;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: { name: string; configs: Array<string | Buffer> }[];
  }
  class S3rver {
    constructor(options?: S3rverOptions);
    run(): Promise<{ address: string; port: number }>;
    configureBuckets(): Promise<void>;
    callback(): (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void;
    close(): Promise<void>;
    httpServer?: Server;
  }
  export = S3rver;
}
