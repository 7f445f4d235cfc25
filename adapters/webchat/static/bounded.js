// A Map that forgets its least recently set entries beyond `limit`, so per-thread or
// per-message bookkeeping in a page left open for days stays small.

export class BoundedMap extends Map {
  constructor(limit) {
    super();
    this.limit = limit;
  }

  set(key, value) {
    super.delete(key);
    super.set(key, value);
    while (this.size > this.limit) super.delete(this.keys().next().value);
    return this;
  }
}
