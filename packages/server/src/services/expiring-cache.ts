/**
 * A per-process cache whose entries live `ttlMs`, for rows that nearly every request reads and that change only by
 * an administrator's hand (virtual servers, API keys). A change made through this process deletes its entry at
 * once; one made through another instance shows within `ttlMs`. Bounded: when full it starts over.
 */
export class ExpiringCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  /** The cached value, or what `load` finds (cached only when found). */
  async get(key: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.until > now) return hit.value;
    const value = await load();
    if (value === undefined) {
      this.entries.delete(key);
      return undefined;
    }
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(key, { value, until: now + this.ttlMs });
    return value;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}

/** One cache of each kind per service context (a test may run several contexts in one process). */
export function perContext<C extends object, V>(make: () => ExpiringCache<V>): (ctx: C) => ExpiringCache<V> {
  const caches = new WeakMap<C, ExpiringCache<V>>();
  return (ctx) => {
    let cache = caches.get(ctx);
    if (!cache) caches.set(ctx, (cache = make()));
    return cache;
  };
}
