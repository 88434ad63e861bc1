// The Node flags the operator process runs with, in one place: config/manager passes them (the
// image's entrypoint is node), `npm run operator` and the scale benchmark start it with them.
//
// --max-semi-space-size=2: V8 sizes its young generation from the machine's memory; on a large
// node it reserved ~100 MiB the operator never needed (heap total 195 MiB for 60-110 MiB in use,
// RSS 370 MiB at 1,000 policies and 30 gateways; 220-234 MiB with this flag, BENCHMARKS.md "At
// scale"). The operator allocates little per second, so smaller semi-spaces cost nothing visible.
// --max-old-space-size=192: the heap stays well inside the Deployment's 384Mi limit (60-110 MiB in
// use at that size, ~130 MiB of RSS outside the heap), so V8 collects harder before the kernel
// would kill the container.
export const OPERATOR_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2', '--max-old-space-size=192'];
