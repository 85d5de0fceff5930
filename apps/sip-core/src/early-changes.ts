/** Changes kept before the handler exists; more than this and the caches are reloaded instead. */
const MAX_KEPT = 10_000;

/**
 * Follows a change feed from before the caches load: what arrives while they load is kept and handed,
 * in order, to the handler once it is attached. Following the feed only after the loads would lose every
 * change committed in between (a subscriber created just after start stayed unknown to routing until
 * the next reload). A change seen by both the load and the feed is applied twice, which the handlers
 * take (each one reads the row again). A reconnect, or more changes than are kept, reloads everything
 * once attached, as a reconnect does later.
 */
export class EarlyChanges {
  private kept: string[] | undefined = [];
  private reloadWhenAttached = false;
  private handler: (payload: string) => void = () => {};
  private reload: () => void = () => {};

  /** The feed's handler: pass it to `onChange` before loading. */
  readonly take = (payload: string): void => {
    if (!this.kept) this.handler(payload);
    else if (this.kept.length < MAX_KEPT) this.kept.push(payload);
    else this.reloadWhenAttached = true;
  };

  /** The feed's `onReconnect`. */
  readonly reconnected = (): void => {
    if (!this.kept) this.reload();
    else this.reloadWhenAttached = true;
  };

  /** From now on changes go to `handler`; the kept ones go first (or one `reload` instead). */
  attach(handler: (payload: string) => void, reload: () => void): void {
    const kept = this.kept ?? [];
    this.kept = undefined;
    this.handler = handler;
    this.reload = reload;
    if (this.reloadWhenAttached) reload();
    else for (const payload of kept) handler(payload);
  }
}
