/**
 * Longest-prefix match over destination digits: one node per digit, so a lookup costs one step per
 * digit of the number, whatever the number of prefixes. Values are found on the path from the root;
 * `accept` lets the caller skip a value (a rate outside its validity dates) and fall back to a
 * shorter prefix.
 *
 * The nodes live in one flat table (ten child slots per node in an Int32Array, the values in a
 * parallel array) rather than one object and one array per node: a lookup in a 50,000-prefix deck
 * then follows indexes in two contiguous blocks instead of pointers to scattered small objects, and
 * the trie is a few large allocations the garbage collector does not walk node by node
 * (docs/performance.md, "Billing").
 */

/** Node 0 is the root; as no node points back to it, a child slot of 0 means "no child". */
const ROOT = 0;

export class PrefixTrie<T> {
  private children = new Int32Array(10 * 1024);
  private readonly values: (T | undefined)[] = [undefined];
  size = 0;

  /** Adds or replaces the value of a prefix of digits 0-9 (empty: the default for every number). */
  set(prefix: string, value: T): void {
    let at = ROOT;
    for (let i = 0; i < prefix.length; i++) {
      const digit = prefix.charCodeAt(i) - 48;
      if (digit < 0 || digit > 9) throw new Error(`prefix has a non-digit: ${prefix}`);
      let next = this.children[at * 10 + digit]!;
      if (next === ROOT) {
        next = this.values.length;
        this.values.push(undefined);
        if ((next + 1) * 10 > this.children.length) {
          const grown = new Int32Array(this.children.length * 2);
          grown.set(this.children);
          this.children = grown;
        }
        this.children[at * 10 + digit] = next;
      }
      at = next;
    }
    if (this.values[at] === undefined) this.size++;
    this.values[at] = value;
  }

  /**
   * The value of the longest prefix of `digits` that `accept` takes, if any. `arg` is handed to `accept`
   * so that a hot caller can pass a constant function instead of a new closure per lookup.
   */
  longest<A>(digits: string, accept?: (value: T, arg: A) => boolean, arg?: A): T | undefined {
    const children = this.children;
    const values = this.values;
    let at = ROOT;
    let found: T | undefined;
    for (let i = 0; ; i++) {
      const value = values[at];
      if (value !== undefined && (accept === undefined || accept(value, arg as A))) found = value;
      if (i >= digits.length) break;
      const digit = digits.charCodeAt(i) - 48;
      if (digit < 0 || digit > 9) break;
      at = children[at * 10 + digit]!;
      if (at === ROOT) break;
    }
    return found;
  }
}
