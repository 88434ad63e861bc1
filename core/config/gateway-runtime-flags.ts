// The Node flags the gateway process runs with, in one place: the operator's Deployment passes them
// (the image's entrypoint is node), the benchmarks start the gateway process with them, and the
// Dockerfile's CMD repeats them for `docker run`.
//
// --max-semi-space-size=8: V8 sizes its young generation from the machine's memory (up to 3 × 32
// MiB here), and a gateway streaming a large masked LIST fills it with short-lived chunks and
// slices before the first scavenge; 8 MiB semi-spaces keep the growth for a 17 MiB LIST near +20
// MiB instead of +55..+69 MiB, for the same speed (BENCHMARKS.md, "Masking").
export const GATEWAY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8'];
