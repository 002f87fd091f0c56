// libFuzzer's documented driver entry point (in the runtime that `-sanitize=fuzzer` links),
// declared for Swift: the fuzz binary's own `main` hands its arguments and the per-input
// callback to it, because SwiftPM gives every executable target a `main` of its own.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
