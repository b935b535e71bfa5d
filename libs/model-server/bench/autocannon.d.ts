// The part of autocannon's API the benchmark uses (the package ships no type declarations).
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';
  interface Histogram {
    p50: number;
    p90: number;
    p99: number;
    average: number;
    max: number;
  }
  interface Options {
    url: string;
    connections: number;
    duration: number;
    requests?: Array<{ method: string; headers?: Record<string, string>; body?: Buffer | string }>;
  }
  interface Result {
    requests: Histogram & { total: number };
    latency: Histogram;
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
  }
  function autocannon(options: Options, callback: (error: Error | null, result: Result) => void): EventEmitter;
  export = autocannon;
}
