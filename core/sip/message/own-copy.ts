/**
 * A copy of a string that shares no memory with the string it was cut from (lossless: UTF-16 code units). A value
 * sliced from a parsed message keeps the whole message alive; anything kept for long (caches, memos) keeps a copy.
 */
export function ownCopy(text: string): string {
  return Buffer.from(text, 'utf16le').toString('utf16le');
}
