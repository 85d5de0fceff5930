/**
 * A reload of an in-memory index that follows the change feed: `run()` loads; calls made while a load
 * is under way fold into one more load after it, since that load may have read the tables before the
 * change that prompted them. Any number of changes during a load cost one more load, not one each.
 */
export class CoalescedLoad {
  private running: Promise<void> | undefined;
  private again = false;

  constructor(private readonly load: () => Promise<void>) {}

  run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.load();
        } while (this.again);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }
}
