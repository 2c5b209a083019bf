// Internal names must not be reachable through the package's types. tsc must
// fail on this file with exactly the errors named at the ends of lines
// (tests/package.test.ts compares them).
import { Tensor } from 'webgpu-rnn';
import type { GpuContext } from 'webgpu-rnn'; // error TS2305 (not even declared in the .d.ts)
import { fmtShape } from 'webgpu-rnn'; // error TS2305
import { createRuntime } from 'webgpu-rnn/dist/webgpu-rnn.js'; // error TS2307

export type Internal = GpuContext;
export const made = Tensor.fromCpu(new Float64Array(1), [1]); // error TS2339
export const shape = fmtShape([1]);
export const rt = createRuntime();
