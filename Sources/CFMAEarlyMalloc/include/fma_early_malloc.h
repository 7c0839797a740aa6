#ifndef FMA_EARLY_MALLOC_H
#define FMA_EARLY_MALLOC_H

/// An executable that links this target gets, before main and before any thread exists, one
/// glibc malloc arena and a fixed 128 KiB mmap threshold (large blocks mapped on their own and
/// returned at free), unless MALLOC_ARENA_MAX, MALLOC_MMAP_THRESHOLD_ or GLIBC_TUNABLES set
/// them. mallopt later, from Swift, is too late for the arenas: threads made before it keep
/// theirs. fma-devcluster and fma-controller link it (docs/performance.md: memory over
/// create/delete cycles, and the controller at scale).

/// What was applied, for the log: e.g. "arenas=1 mmap_threshold=131072", or "unchanged".
const char *fma_early_malloc_summary(void);

#endif
