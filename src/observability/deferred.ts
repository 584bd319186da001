/**
 * Observations kept as plain numbers on the request path and handed to prom-client in bulk.
 *
 * A prom-client `observe` or `inc` validates its labels and hashes them on every call, even on a
 * child resolved with `labels()`; a cache hit made five to eight such calls (its phases, its
 * lookup, its prediction count). Here a call appends a number to an array, or adds to one, keyed
 * by the child itself; `flush` replays them into prom-client. The metrics that use it flush from
 * their `collect` hook, so a scrape always sees every observation made before it, and the
 * buffer flushes itself past MAX_PENDING observations, so it stays small without a timer.
 */

export interface Observer {
  observe(value: number): void;
}

export interface Incrementer {
  inc(value?: number): void;
}

/** Observations buffered before a flush without waiting for a scrape. */
const MAX_PENDING = 4096;

export class DeferredObservations {
  private readonly observations = new Map<Observer, number[]>();
  private readonly increments = new Map<Incrementer, number>();
  private pending = 0;

  observe(target: Observer, value: number): void {
    let values = this.observations.get(target);
    if (!values) {
      values = [];
      this.observations.set(target, values);
    }
    values.push(value);
    if (++this.pending >= MAX_PENDING) this.flush();
  }

  inc(target: Incrementer, by = 1): void {
    this.increments.set(target, (this.increments.get(target) ?? 0) + by);
    if (++this.pending >= MAX_PENDING) this.flush();
  }

  /** Hands everything buffered to prom-client. */
  flush(): void {
    if (this.pending === 0) return;
    this.pending = 0;
    for (const [target, values] of this.observations) {
      for (const value of values) target.observe(value);
      values.length = 0;
    }
    for (const [target, by] of this.increments) if (by !== 0) target.inc(by);
    this.increments.clear();
  }
}

/**
 * The children of a labelled metric by their label values joined with `|`: resolved once, so
 * the request path builds a short string instead of prom-client hashing a label object.
 */
export class Children<T> {
  private readonly byKey = new Map<string, T>();

  constructor(private readonly resolve: (values: string[]) => T) {}

  get(...values: string[]): T {
    const key = values.join('|');
    let child = this.byKey.get(key);
    if (!child) {
      child = this.resolve(values);
      this.byKey.set(key, child);
    }
    return child;
  }
}
