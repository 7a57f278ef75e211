import DataLoader from "dataloader";

export type BatchLoader<K, V> = DataLoader<K, V>;

/**
 * A DataLoader that batches the keys one tick of execution asks for, reads each distinct key once, and
 * remembers nothing afterwards: a subscription's context lives for many events, and each must see what is
 * stored now. What a resolver would read once per parent is read once per list of parents.
 */
export function batchLoader<K, V>(load: (distinctKeys: K[]) => Promise<V[]>): DataLoader<K, V> {
  return new DataLoader<K, V>(
    async (keys) => {
      const distinct = [...new Set(keys)];
      const values = await load(distinct);
      const byKey = new Map(distinct.map((key, index) => [key, values[index]!]));
      return keys.map((key) => byKey.get(key)!);
    },
    { cache: false },
  );
}

/** One value per operation context (its batch loaders), made on first use and dropped with the context. */
export class PerRequest<Context extends object, T> {
  private readonly values = new WeakMap<Context, T>();

  constructor(private readonly create: (context: Context) => T) {}

  of(context: Context): T {
    let value = this.values.get(context);
    if (value === undefined) {
      value = this.create(context);
      this.values.set(context, value);
    }
    return value;
  }

  /** Forgets a context's value (one that failed, so the next resolver tries again). */
  forget(context: Context): void {
    this.values.delete(context);
  }
}
