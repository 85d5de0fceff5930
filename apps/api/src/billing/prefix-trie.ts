/**
 * Longest-prefix match over destination digits: one node per digit, so a lookup costs one step per
 * digit of the number, whatever the number of prefixes. Values are found on the path from the root;
 * `accept` lets the caller skip a value (a rate outside its validity dates) and fall back to a
 * shorter prefix.
 */

interface TrieNode<T> {
  children: (TrieNode<T> | undefined)[] | undefined;
  value: T | undefined;
}

const node = <T>(): TrieNode<T> => ({ children: undefined, value: undefined });

export class PrefixTrie<T> {
  private readonly root: TrieNode<T> = node();
  size = 0;

  /** Adds or replaces the value of a prefix of digits 0-9 (empty: the default for every number). */
  set(prefix: string, value: T): void {
    let at = this.root;
    for (let i = 0; i < prefix.length; i++) {
      const digit = prefix.charCodeAt(i) - 48;
      if (digit < 0 || digit > 9) throw new Error(`prefix has a non-digit: ${prefix}`);
      at.children ??= new Array(10);
      let next = at.children[digit];
      if (next === undefined) {
        next = node();
        at.children[digit] = next;
      }
      at = next;
    }
    if (at.value === undefined) this.size++;
    at.value = value;
  }

  /**
   * The value of the longest prefix of `digits` that `accept` takes, if any. `arg` is handed to `accept`
   * so that a hot caller can pass a constant function instead of a new closure per lookup.
   */
  longest<A>(digits: string, accept?: (value: T, arg: A) => boolean, arg?: A): T | undefined {
    let at: TrieNode<T> | undefined = this.root;
    let found: T | undefined;
    for (let i = 0; at !== undefined; i++) {
      if (at.value !== undefined && (accept === undefined || accept(at.value, arg as A))) found = at.value;
      if (i >= digits.length || at.children === undefined) break;
      at = at.children[digits.charCodeAt(i) - 48];
    }
    return found;
  }
}
