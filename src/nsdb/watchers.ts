import type { Change, Unsubscribe } from './backend.ts';

/**
 * Listener registry shared by the backends: listeners keyed by a string, each entry delivering
 * only changes newer than the last one it saw, so a watch opened while a commit is in flight
 * neither misses nor repeats it.
 */
export class Listeners<T> {
  private readonly byKey = new Map<string, Set<(value: T) => void>>();

  add(key: string, listener: (value: T) => void): Unsubscribe {
    let set = this.byKey.get(key);
    if (!set) this.byKey.set(key, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.byKey.get(key) === set) this.byKey.delete(key);
    };
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  emit(key: string, value: T): void {
    const set = this.byKey.get(key);
    if (!set) return;
    for (const l of [...set]) {
      try {
        l(value);
      } catch {
        // A failing listener must not stop delivery to the others.
      }
    }
  }
}

/** Wraps a change listener so it drops versions it has already seen (per object id). */
export function monotonic(listener: (change: Change) => void): (change: Change, version: number) => void {
  const seen = new Map<string, number>();
  return (change, version) => {
    const last = seen.get(change.id);
    if (last !== undefined && version <= last) return;
    seen.set(change.id, version);
    listener(change);
  };
}
