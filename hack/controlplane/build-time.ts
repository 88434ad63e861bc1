// How long the first build of the control plane takes, as `hack/cluster help` and the README say
// it (a test keeps the README in step, and checks it against the last build recorded in the
// cache, hack/build-binaries.sh's BUILD_SECONDS). Measured here: 385 s on 2 cores.
export const FIRST_BUILD_MINUTES = 7;
