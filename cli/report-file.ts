import fs from 'node:fs';
import path from 'node:path';

/** Bytes gathered before a write: the file gets big writes, memory holds at most this much of the text. */
const chunkBytes = 64 * 1024;

/**
 * Write a value as indented JSON (the same text as `JSON.stringify(value, null, 2)`) piece by piece: a report with
 * every message of a long load never becomes one string in memory (V8 refuses strings over ~512 MB outright).
 */
export function writeJsonFile(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const fd = fs.openSync(file, 'w');
  try {
    let pending: string[] = [];
    let size = 0;
    const flush = (): void => {
      if (size === 0) return;
      fs.writeSync(fd, pending.join(''));
      pending = [];
      size = 0;
    };
    for (const piece of jsonPieces(value, '')) {
      pending.push(piece);
      size += piece.length;
      if (size >= chunkBytes) flush();
    }
    pending.push('\n');
    size++;
    flush();
  } finally {
    fs.closeSync(fd);
  }
}

/** The JSON text of `value` in pieces, indented by two spaces per level like JSON.stringify(value, null, 2). */
export function* jsonPieces(value: unknown, indent: string): Generator<string> {
  // A sequence that is not an array (an agent's trace, read from its files) is written as one, item by item.
  if (isStreamedSequence(value)) return yield* arrayPieces(value, indent);
  const plain = value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function' ? (value as { toJSON(): unknown }).toJSON() : value;
  if (plain === null || typeof plain !== 'object') {
    yield JSON.stringify(plain) ?? 'null';
    return;
  }
  const inner = `${indent}  `;
  if (Array.isArray(plain)) return yield* arrayPieces(plain, indent);
  const entries = Object.entries(plain).filter(([, v]) => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol');
  if (entries.length === 0) return yield '{}';
  yield '{';
  for (const [i, [key, item]] of entries.entries()) {
    yield `${i > 0 ? ',' : ''}\n${inner}${JSON.stringify(key)}: `;
    yield* jsonPieces(item, inner);
  }
  yield `\n${indent}}`;
}

function* arrayPieces(items: Iterable<unknown>, indent: string): Generator<string> {
  const inner = `${indent}  `;
  let first = true;
  for (const item of items) {
    yield `${first ? '[' : ','}\n${inner}`;
    first = false;
    yield* jsonPieces(item === undefined || typeof item === 'function' || typeof item === 'symbol' ? null : item, inner);
  }
  yield first ? '[]' : `\n${indent}]`;
}

/** An iterable object that JSON.stringify would not write as an array (not an array, string, Map or Set). */
function isStreamedSequence(value: unknown): value is Iterable<unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Map) && !(value instanceof Set) && typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function';
}
