/**
 * A small typed event emitter that runs anywhere (no `node:events`): listeners per event name,
 * called synchronously in registration order. A listener that throws does not stop the others;
 * the error goes to `onListenerError` (the session turns it into a `HANDLER_FAILED` warning).
 */

export class TypedEmitter<E extends object> {
  readonly #listeners = new Map<keyof E, ((e: never) => void)[]>();
  readonly #onError: (name: keyof E, error: unknown) => void;

  constructor(onListenerError: (name: keyof E, error: unknown) => void = () => {}) {
    this.#onError = onListenerError;
  }

  /** Add a listener; returns a function that removes it. */
  on<K extends keyof E>(name: K, fn: (e: E[K]) => void): () => void {
    if (typeof fn !== 'function') throw new TypeError('listener must be a function');
    const list = this.#listeners.get(name) ?? [];
    // Copy on write: emitting iterates a snapshot, so (un)subscribing inside a listener is safe.
    this.#listeners.set(name, [...list, fn as (e: never) => void]);
    return () => this.off(name, fn);
  }

  /** Call `fn` for the next event only. */
  once<K extends keyof E>(name: K, fn: (e: E[K]) => void): () => void {
    const off = this.on(name, (e) => {
      off();
      fn(e);
    });
    return off;
  }

  off<K extends keyof E>(name: K, fn: (e: E[K]) => void): void {
    const list = this.#listeners.get(name);
    if (list === undefined) return;
    const i = list.indexOf(fn as (e: never) => void);
    if (i < 0) return;
    const next = list.slice(0, i).concat(list.slice(i + 1));
    if (next.length === 0) this.#listeners.delete(name);
    else this.#listeners.set(name, next);
  }

  /** Whether anybody listens: lets the emitter's owner skip building an event. */
  has(name: keyof E): boolean {
    return this.#listeners.has(name);
  }

  listenerCount(name: keyof E): number {
    return this.#listeners.get(name)?.length ?? 0;
  }

  emit<K extends keyof E>(name: K, event: E[K]): void {
    const list = this.#listeners.get(name);
    if (list === undefined) return;
    for (const fn of list) {
      try {
        (fn as (e: E[K]) => void)(event);
      } catch (error) {
        try {
          this.#onError(name, error);
        } catch {
          // an error handler that throws must not break the emitter
        }
      }
    }
  }
}
