import { endOfPrefix, lowerBound, upperBound, type IndexEntry, type KeyIndex } from './key-index';

export interface ListQuery {
  prefix?: string;
  delimiter?: string;
  /** Exclusive start: V1 `marker`, V2 `start-after` or the key a continuation token stands for. */
  after?: string;
  /** 0–1000 (S3's cap). Default 1000. */
  maxKeys?: number;
}

export interface ListedObject extends IndexEntry {
  key: string;
}

export interface ListPage {
  objects: ListedObject[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** The last key or common prefix returned: where the next page starts after. */
  last?: string;
}

export const MAX_LIST_KEYS = 1000;

/**
 * One page of an S3 listing: keys after `after` that start with `prefix`, in S3's order, keys
 * containing `delimiter` after the prefix rolled up into common prefixes (each counted once
 * against `maxKeys`, and skipped over by binary search rather than key by key).
 */
export function listPage(index: KeyIndex, query: ListQuery): ListPage {
  const prefix = query.prefix ?? '';
  const delimiter = query.delimiter ?? '';
  const after = query.after ?? '';
  const maxKeys = Math.min(query.maxKeys ?? MAX_LIST_KEYS, MAX_LIST_KEYS);
  const keys = index.keys();
  let i = lowerBound(keys, prefix, index.compare);
  if (after) i = Math.max(i, upperBound(keys, after, index.compare, i));
  const page: ListPage = { objects: [], commonPrefixes: [], isTruncated: false };
  let count = 0;
  while (i < keys.length) {
    const key = keys[i];
    if (!key.startsWith(prefix)) break;
    const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
    if (cut !== -1) {
      const commonPrefix = key.slice(0, cut + delimiter.length);
      const next = endOfPrefix(keys, commonPrefix, i);
      // A start inside a rolled-up prefix means that prefix was returned on an earlier page.
      if (after.startsWith(commonPrefix)) {
        i = next;
        continue;
      }
      if (count >= maxKeys) {
        page.isTruncated = maxKeys > 0;
        break;
      }
      page.commonPrefixes.push(commonPrefix);
      page.last = commonPrefix;
      count++;
      i = next;
      continue;
    }
    if (count >= maxKeys) {
      page.isTruncated = maxKeys > 0;
      break;
    }
    const entry = index.get(key);
    if (entry) page.objects.push({ key, ...entry });
    page.last = key;
    count++;
    i++;
  }
  return page;
}
