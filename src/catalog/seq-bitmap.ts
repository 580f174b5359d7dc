/** A set of artifact seqs as a growable bitmap (bit `seq` set: the artifact may hold the value). */
export class SeqBitmap {
  private words: Uint32Array;

  constructor(seqs: Iterable<number> = []) {
    this.words = new Uint32Array(1024);
    for (const s of seqs) this.add(s);
  }

  add(seq: number): void {
    const w = seq >>> 5;
    if (w >= this.words.length) {
      const grown = new Uint32Array(Math.max(w + 1, this.words.length * 2));
      grown.set(this.words);
      this.words = grown;
    }
    this.words[w] |= 1 << (seq & 31);
  }

  has(seq: number): boolean {
    const w = seq >>> 5;
    return w < this.words.length && (this.words[w] & (1 << (seq & 31))) !== 0;
  }

  /** Bytes held (for the cache's budget). */
  get bytes(): number {
    return this.words.byteLength;
  }

  /** Bytes a bitmap holding seqs up to `maxSeq` takes at most (words grow by doubling). */
  static bytesFor(maxSeq: number): number {
    let words = 1024;
    while (words * 32 <= maxSeq) words *= 2;
    return words * 4;
  }

  /**
   * Seqs below `below` set in every one of `maps`, newest (highest) first, at most `max` of
   * them: a word-wise AND, ~30,000 words for a million artifacts.
   */
  static intersectBelow(maps: SeqBitmap[], below: number, max: number): number[] {
    const out: number[] = [];
    if (maps.length === 0 || below <= 0) return out;
    const top = Math.min(below - 1, ...maps.map((m) => m.words.length * 32 - 1));
    for (let w = top >>> 5; w >= 0 && out.length < max; w--) {
      let x = 0xffffffff;
      for (const m of maps) x &= m.words[w];
      if (w === top >>> 5 && (top & 31) !== 31) x &= (2 ** ((top & 31) + 1) - 1) >>> 0;
      while (x !== 0 && out.length < max) {
        const bit = 31 - Math.clz32(x);
        out.push(w * 32 + bit);
        x &= ~(1 << bit);
      }
    }
    return out;
  }
}
