/**
 * Reads ahead while results are consumed in order: at most `window` loads run at once, and
 * `each` sees the results in input order as soon as each is ready — so a FETCH of thousands of
 * messages streams its responses while the next messages' bytes are being read.
 */
export async function forEachOrdered<T, R>(
  items: readonly T[],
  window: number,
  load: (item: T) => Promise<R>,
  each: (item: T, result: R) => void | Promise<void>,
): Promise<void> {
  const pending: Promise<R>[] = [];
  let next = 0;
  const fill = (): void => {
    while (next < items.length && pending.length < window) {
      const p = load(items[next++]);
      p.catch(() => undefined); // handled when awaited in order below
      pending.push(p);
    }
  };
  for (let i = 0; i < items.length; i++) {
    fill();
    const result = await (pending.shift() as Promise<R>);
    await each(items[i], result);
  }
}
