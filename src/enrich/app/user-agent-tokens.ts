// A User-Agent split into its products (RFC 9110: `name/version`, each optionally followed by a
// `(comment)`), tolerant of what apps really send: names with no version, nested parentheses
// (Unity's `(Android OS 5.1 / API-22 (HUAWEITIT-U02/C579B105); …)`), `[FB_IAB/FB4A;…]` blocks, commas
// between products (Dart's `Dart/3.2 (dart:io), AppName/1.0.0`). Bounded: only a prefix is read.

/** Characters of a User-Agent we look at; real ones are a few hundred at most. */
export const userAgentScanChars = 2048;

/** Comments and products kept per User-Agent, so a hostile value cannot make us build a large list. */
const maxTokens = 64;

export interface UserAgentProduct {
  /** `okhttp`, `com.miui.gallery`, `Mozilla`; a bare word (`Mobile`, `like`) has no version. */
  readonly name: string;
  /** Everything after the first `/` (`4.9.2`, `Futureve/1.1.1`), when there is one. */
  readonly version?: string;
  /** The parenthesised comment right after the product, without its outer parentheses. */
  readonly comment?: string;
  /** The whole `[…]` block, for the in-app browser markers that use one. */
  readonly bracket?: string;
}

export function userAgentProducts(userAgent: string): UserAgentProduct[] {
  const text = userAgent.slice(0, userAgentScanChars);
  const products: Array<{ name: string; version?: string; comment?: string; bracket?: string }> = [];
  let i = 0;
  while (i < text.length && products.length < maxTokens) {
    const c = text[i]!;
    if (c === ' ' || c === ',' || c === ';' || c === '\t') {
      i++;
    } else if (c === '(') {
      const end = closing(text, i, '(', ')');
      const comment = text.slice(i + 1, end);
      const last = products[products.length - 1];
      if (last && last.comment === undefined) last.comment = comment;
      else products.push({ name: '', comment });
      i = end + 1;
    } else if (c === '[') {
      const end = closing(text, i, '[', ']');
      products.push({ name: '', bracket: text.slice(i + 1, end) });
      i = end + 1;
    } else {
      let end = i;
      while (end < text.length && !' \t,;(['.includes(text[end]!)) end++;
      const word = text.slice(i, end);
      const slash = word.indexOf('/');
      if (slash < 0) products.push({ name: word });
      else products.push({ name: word.slice(0, slash), version: word.slice(slash + 1) });
      i = end;
    }
  }
  return products;
}

/** Index of the bracket that closes the one at `start` (nesting counted), or the end of the text. */
function closing(text: string, start: number, open: string, close: string): number {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    if (text[i] === open) depth++;
    else if (text[i] === close && --depth === 0) return i;
  }
  return text.length;
}

/** The `;`-separated items of a comment, trimmed, nested parentheses left inside their item. */
export function commentItems(comment: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= comment.length && items.length < maxTokens; i++) {
    const c = comment[i];
    if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if ((c === ';' && depth === 0) || c === undefined) {
      const item = comment.slice(start, i).trim();
      if (item) items.push(item);
      start = i + 1;
    }
  }
  return items;
}
