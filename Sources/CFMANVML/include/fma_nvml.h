/*
 * NVML, loaded at run time: dlopen("libnvidia-ml.so.1") and dlsym of the few functions fma
 * needs, behind typed wrappers. Nothing links against the driver, so the same binary runs on
 * machines without one (fma_nvml_load then fails with dlerror's text).
 *
 * Every wrapper returns an NVML return code (0 = success; fma_nvml_error_string names the
 * others). Calling a wrapper before a successful fma_nvml_load returns FMA_NVML_NOT_LOADED.
 */
#ifndef FMA_NVML_H
#define FMA_NVML_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* NVML's own codes that callers check. */
#define FMA_NVML_SUCCESS 0
#define FMA_NVML_ERROR_INSUFFICIENT_SIZE 7
#define FMA_NVML_ERROR_NOT_SUPPORTED 3
/* Not an NVML code: the library (or a function it must export) is not loaded. */
#define FMA_NVML_NOT_LOADED 10000

/* NVML_DEVICE_UUID_V2_BUFFER_SIZE and NVML_DEVICE_NAME_V2_BUFFER_SIZE. */
#define FMA_NVML_UUID_BUFFER_SIZE 96
#define FMA_NVML_NAME_BUFFER_SIZE 96

/* NVML's NVML_VALUE_NOT_AVAILABLE for a process's memory (e.g. under Windows WDDM, or MIG). */
#define FMA_NVML_VALUE_NOT_AVAILABLE (~0ULL)

/* An opaque device handle (nvmlDevice_t). */
typedef void *fma_nvml_device;

/* A process using a GPU. */
typedef struct {
    unsigned int pid;
    unsigned long long used_memory_bytes; /* FMA_NVML_VALUE_NOT_AVAILABLE when unknown */
} fma_nvml_process;

/*
 * Loads `library` (NULL: "libnvidia-ml.so.1") and resolves its functions. Returns 0 on success;
 * otherwise -1 with a NUL-terminated reason (dlerror's text, or the missing symbol) in `error`.
 * Loading again after a success does nothing and returns 0. Thread-safe.
 */
int fma_nvml_load(const char *library, char *error, size_t error_size);

int fma_nvml_init(void);
int fma_nvml_shutdown(void);
int fma_nvml_device_count(unsigned int *count);
int fma_nvml_device_by_index(unsigned int index, fma_nvml_device *device);
int fma_nvml_device_uuid(fma_nvml_device device, char *uuid, unsigned int size);
int fma_nvml_device_name(fma_nvml_device device, char *name, unsigned int size);
int fma_nvml_device_memory(fma_nvml_device device, unsigned long long *total_bytes, unsigned long long *used_bytes);

/*
 * The compute processes on `device`: on entry *count is the capacity of `processes`; on return
 * it is the number NVML reports (FMA_NVML_ERROR_INSUFFICIENT_SIZE when that exceeds the
 * capacity: call again with a larger array). Uses the newest entry point the driver exports.
 */
int fma_nvml_device_processes(fma_nvml_device device, unsigned int *count, fma_nvml_process *processes);

/* NVML's text for a return code ("Success", "Not Supported", ...); never NULL. */
const char *fma_nvml_error_string(int result);

#ifdef __cplusplus
}
#endif

#endif
