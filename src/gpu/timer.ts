// GPU-side time of compute passes, from timestamp queries ('timestamp-query').
//
// When a runtime is created with { timestamps: true } on an adapter that offers the
// feature, every compute pass the runtime begins gets a pair of query slots
// (timestampWrites at its beginning and end). At submit the slots used are resolved
// and copied to a staging buffer, which is read when the GPU gets there; the
// differences add up until Runtime.gpuTime() takes them. Nothing waits for the GPU
// here: gpuTime() waits for the reads still in flight.
//
// Browsers may round timestamps (Chromium to 100 µs without a flag), so a pass
// shorter than that reads as 0 or 100 µs; sums over many passes are what to trust.
// A submit with more passes than PAIRS times only the first PAIRS of them and
// counts the rest in `untimed`.

const PAIRS = 16;
const QUERY_RESOLVE = 0x200;
const COPY_SRC = 0x4;
const COPY_DST = 0x8;
const MAP_READ = 0x1;
const MAP_READ_MODE = 0x1;

export interface GpuTime {
  /** Summed GPU time of the timed passes, in milliseconds. */
  ms: number;
  /** Compute passes timed. */
  passes: number;
  /** Compute passes that ran untimed (more passes in one submit than query slots). */
  untimed: number;
}

export class PassTimer {
  private readonly device: GPUDevice;
  private readonly querySet: GPUQuerySet;
  private readonly resolveBuf: GPUBuffer;
  /** Query pairs handed out in the command encoder being recorded. */
  private used = 0;
  private ns = 0;
  private passes = 0;
  private untimed = 0;
  private readonly pending = new Set<Promise<void>>();

  constructor(device: GPUDevice) {
    this.device = device;
    this.querySet = device.createQuerySet({ label: 'pass timestamps', type: 'timestamp', count: 2 * PAIRS });
    this.resolveBuf = device.createBuffer({ label: 'pass timestamps.resolve', size: 16 * PAIRS, usage: QUERY_RESOLVE | COPY_SRC });
  }

  /** A compute-pass descriptor with timestamp writes, while query slots last. */
  pass(label: string): GPUComputePassDescriptor {
    if (this.used >= PAIRS) {
      this.untimed++;
      return { label };
    }
    const i = this.used++;
    return { label, timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } };
  }

  /**
   * After recording into `enc`: resolve the slots used into a staging buffer.
   * Returns what to call once `enc` is submitted (it starts the read), or null.
   */
  resolve(enc: GPUCommandEncoder): (() => void) | null {
    const n = this.used;
    this.used = 0;
    if (n === 0) return null;
    const staging = this.device.createBuffer({ label: 'pass timestamps.read', size: 16 * n, usage: MAP_READ | COPY_DST });
    enc.resolveQuerySet(this.querySet, 0, 2 * n, this.resolveBuf, 0);
    enc.copyBufferToBuffer(this.resolveBuf, 0, staging, 0, 16 * n);
    return () => {
      const read: Promise<void> = staging
        .mapAsync(MAP_READ_MODE)
        .then(() => {
          const t = new BigInt64Array(staging.getMappedRange());
          for (let i = 0; i < n; i++) {
            const d = t[2 * i + 1] - t[2 * i];
            if (d > 0n) this.ns += Number(d);
          }
          this.passes += n;
        })
        .catch(() => {
          this.untimed += n; // device lost or destroyed: the context reports that itself
        })
        .finally(() => {
          staging.destroy();
          this.pending.delete(read);
        });
      this.pending.add(read);
    };
  }

  /** Waits for the reads in flight, returns the time summed since the last take, and restarts the sum. */
  async take(): Promise<GpuTime> {
    while (this.pending.size) await Promise.all([...this.pending]);
    const out = { ms: this.ns / 1e6, passes: this.passes, untimed: this.untimed };
    this.ns = 0;
    this.passes = 0;
    this.untimed = 0;
    return out;
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolveBuf.destroy();
  }
}
