/**
 * A read shared by everyone who asks within `maxAgeMs` (the /metrics gauges, /ops.json, the
 * page's refreshes): one read of the log or one round of engine checks at a time, and not more
 * often than that however often they are asked for.
 */
export function latest<T>(read: () => Promise<T>, maxAgeMs: number, now: () => number = Date.now): () => Promise<T> {
  let value: { at: number; value: T } | undefined;
  let reading: Promise<T> | undefined;
  return () => {
    if (value && now() - value.at < maxAgeMs) return Promise.resolve(value.value);
    reading ??= read()
      .then((v) => {
        value = { at: now(), value: v };
        return v;
      })
      .finally(() => {
        reading = undefined;
      });
    return reading;
  };
}
