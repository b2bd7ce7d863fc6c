import { splitOutsideQuotes } from './split-list.js';

/** One `;name=value` (or bare `;name`) parameter, in the order it appeared. Names compare case-insensitively. */
export interface SipParam {
  name: string;
  value?: string;
}

/** Parse `a=1;b;c="x;y"` (the text after the first `;`). */
export function parseParams(text: string): SipParam[] {
  return splitOutsideQuotes(text, ';').map((part) => {
    const eq = part.indexOf('=');
    if (eq < 0) return { name: part.trim() };
    return { name: part.slice(0, eq).trim(), value: part.slice(eq + 1).trim() };
  });
}

export function formatParams(params: readonly SipParam[]): string {
  return params.map((p) => (p.value === undefined ? `;${p.name}` : `;${p.name}=${p.value}`)).join('');
}

export function getParam(params: readonly SipParam[], name: string): string | undefined {
  const lower = name.toLowerCase();
  return params.find((p) => p.name.toLowerCase() === lower)?.value;
}

export function hasParam(params: readonly SipParam[], name: string): boolean {
  const lower = name.toLowerCase();
  return params.some((p) => p.name.toLowerCase() === lower);
}

/** Returns a new list with `name` set (replacing in place, or appended). `value` undefined means a bare flag. */
export function withParam(params: readonly SipParam[], name: string, value?: string): SipParam[] {
  const lower = name.toLowerCase();
  const next: SipParam = value === undefined ? { name } : { name, value };
  let replaced = false;
  const out = params.map((p) => {
    if (p.name.toLowerCase() !== lower) return p;
    replaced = true;
    return next;
  });
  if (!replaced) out.push(next);
  return out;
}

export function withoutParam(params: readonly SipParam[], name: string): SipParam[] {
  const lower = name.toLowerCase();
  return params.filter((p) => p.name.toLowerCase() !== lower);
}
