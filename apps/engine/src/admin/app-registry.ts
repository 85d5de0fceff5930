/**
 * Which connected app receives a new request: the apps that routed its verb, taken in turn (round-robin per
 * verb), optionally only those carrying a given tag. In-dialog traffic does not come through here: it goes to
 * the app that owns the dialog.
 */

/** What the registry needs to know about an app connection. */
export interface RoutableApp {
  readonly id: string;
  hasTag(tag: string): boolean;
}

export class AppRegistry<App extends RoutableApp> {
  /** verb (lower case) -> apps in the order they routed it */
  private readonly routes = new Map<string, App[]>();
  /** verb -> index of the app to try first next time */
  private readonly nextIndex = new Map<string, number>();

  route(app: App, verb: string): void {
    const key = verb.toLowerCase();
    const apps = this.routes.get(key) ?? [];
    if (!apps.includes(app)) apps.push(app);
    this.routes.set(key, apps);
  }

  /**
   * Removes one verb for one app. (drachtio-server 0.9 removes every route of the app here; apps must not rely
   * on either behaviour, and drachtio-srf only removes routes it added.)
   */
  removeRoute(app: App, verb: string): void {
    const key = verb.toLowerCase();
    const apps = this.routes.get(key);
    if (!apps) return;
    const remaining = apps.filter((a) => a !== app);
    if (remaining.length === 0) {
      this.routes.delete(key);
      this.nextIndex.delete(key);
    } else {
      this.routes.set(key, remaining);
    }
  }

  /** Forgets every route of an app (it disconnected). */
  removeApp(app: App): void {
    for (const verb of [...this.routes.keys()]) this.removeRoute(app, verb);
  }

  hasRoute(verb: string): boolean {
    return (this.routes.get(verb.toLowerCase())?.length ?? 0) > 0;
  }

  /** Every app that routed the verb (used for cdr:* events, which go to all of them). */
  appsFor(verb: string): readonly App[] {
    return this.routes.get(verb.toLowerCase()) ?? [];
  }

  /** The next app for a new request with this verb, or undefined when no app wants it. */
  select(verb: string, tag?: string): App | undefined {
    const key = verb.toLowerCase();
    const apps = this.routes.get(key);
    if (!apps || apps.length === 0) return undefined;
    const start = (this.nextIndex.get(key) ?? 0) % apps.length;
    for (let i = 0; i < apps.length; i++) {
      const app = apps[(start + i) % apps.length]!;
      if (tag === undefined || app.hasTag(tag)) {
        this.nextIndex.set(key, (start + i + 1) % apps.length);
        return app;
      }
    }
    return undefined;
  }
}
