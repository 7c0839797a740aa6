#include "fma_early_malloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

static char summary[96] = "unchanged";

static int set_by_environment(const char *variable, const char *tunable) {
    const char *tunables = getenv("GLIBC_TUNABLES");
    return getenv(variable) != NULL || (tunables != NULL && strstr(tunables, tunable) != NULL);
}

__attribute__((constructor)) static void fma_early_malloc(void) {
#if defined(__GLIBC__)
    int arenas = 0, threshold = 0;
    if (!set_by_environment("MALLOC_ARENA_MAX", "glibc.malloc.arena_max") && mallopt(M_ARENA_MAX, 1) == 1) {
        arenas = 1;
    }
    if (!set_by_environment("MALLOC_MMAP_THRESHOLD_", "glibc.malloc.mmap_threshold") && mallopt(M_MMAP_THRESHOLD, 128 * 1024) == 1) {
        threshold = 128 * 1024;
    }
    if (arenas || threshold) {
        snprintf(summary, sizeof summary, "arenas=%s mmap_threshold=%d", arenas ? "1" : "unchanged", threshold);
    }
#endif
}

const char *fma_early_malloc_summary(void) {
    return summary;
}
