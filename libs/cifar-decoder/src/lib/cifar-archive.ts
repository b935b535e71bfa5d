import type { Readable } from 'node:stream';
import { CorruptArchiveError, MissingMemberError } from '../errors';
import { decodeCifarBatch, decodeCifarMeta, type CifarBatch, type CifarMeta } from './cifar-batch';
import { ChunkedBytes } from './chunked-bytes';
import { readTarGz } from './tar-gz';

export type CifarMember = 'train' | 'test' | 'meta';

/** Directory of the members in the official archive. */
export const CIFAR100_ARCHIVE_DIRECTORY = 'cifar-100-python';
export const CIFAR100_MEMBERS: readonly CifarMember[] = ['train', 'test', 'meta'];

// A CIFAR member is at most ~155 MB; a much larger size means a damaged header, not data.
const MAX_MEMBER_BYTES = 1024 * 1024 * 1024;

/** Which CIFAR member a tar entry is (`cifar-100-python/train`, also with a leading `./`). */
export function cifarMemberOf(entryName: string): CifarMember | undefined {
  const name = entryName.replace(/^\.\//, '');
  const prefix = `${CIFAR100_ARCHIVE_DIRECTORY}/`;
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  return (CIFAR100_MEMBERS as readonly string[]).includes(rest) ? (rest as CifarMember) : undefined;
}

/** A member's bytes as they are decompressed, kept in the decompressor's chunks (no copy). */
export class MemberBuffer {
  readonly bytes = new ChunkedBytes();

  constructor(
    readonly member: CifarMember,
    readonly entryName: string,
    /** Size from the tar header. */
    readonly size: number,
  ) {
    if (size > MAX_MEMBER_BYTES) throw new CorruptArchiveError(`${entryName}: tar header says ${size} bytes, more than any CIFAR member (damaged archive?)`);
  }

  get filled(): number {
    return this.bytes.length;
  }

  append(chunk: Uint8Array): void {
    if (this.bytes.length + chunk.length > this.size) throw new CorruptArchiveError(`${this.entryName}: more bytes than its tar header says`);
    this.bytes.append(chunk);
  }
}

/** Recognises the CIFAR members among an archive's entries and checks that all three came. */
export class CifarMembers {
  private readonly seen = new Set<CifarMember>();
  private readonly entries: string[] = [];

  constructor(private readonly where: string) {}

  /** A buffer for the entry when it is a CIFAR member (undefined for others); a member twice is an error. */
  open(entryName: string, size: number): MemberBuffer | undefined {
    this.entries.push(entryName);
    const member = cifarMemberOf(entryName);
    if (!member) return undefined;
    if (this.seen.has(member)) throw new CorruptArchiveError(`${this.where}: ${entryName} appears twice`);
    this.seen.add(member);
    return new MemberBuffer(member, entryName, size);
  }

  /** Throws {@link MissingMemberError} naming what is missing and what the archive holds. */
  checkComplete(): void {
    const missing = CIFAR100_MEMBERS.filter((m) => !this.seen.has(m));
    if (!missing.length) return;
    const listed = this.entries.length ? this.entries.slice(0, 8).join(', ') + (this.entries.length > 8 ? ', ...' : '') : 'none';
    throw new MissingMemberError(
      `${this.where}: no ${missing.map((m) => `${CIFAR100_ARCHIVE_DIRECTORY}/${m}`).join(', ')} member (files in the archive: ${listed}); is this cifar-100-python.tar.gz?`,
    );
  }
}

export interface CifarArchive {
  train: CifarBatch;
  test: CifarBatch;
  meta: CifarMeta;
}

/**
 * Reads and decodes the three members of a CIFAR-100 python archive (a path or a stream of its
 * bytes). Each member is decoded as soon as it is complete; the batches' pixels stay in the
 * decompressed chunks (`pixels(row)` is a view; `data` joins them once when asked for).
 */
export async function readCifarArchive(source: string | Readable, options: { signal?: AbortSignal; worker?: boolean } = {}): Promise<CifarArchive> {
  const members = new CifarMembers(typeof source === 'string' ? source : 'archive');
  const decoded: Partial<CifarArchive> = {};
  await readTarGz(source, {
    signal: options.signal,
    worker: options.worker,
    onMember(name, size) {
      const buffer = members.open(name, size);
      if (!buffer) return undefined;
      return {
        data: (chunk) => buffer.append(chunk),
        end: () => {
          if (buffer.member === 'meta') decoded.meta = decodeCifarMeta(buffer.bytes, name);
          else decoded[buffer.member] = decodeCifarBatch(buffer.bytes, name);
        },
      };
    },
  });
  members.checkComplete();
  return decoded as CifarArchive;
}
