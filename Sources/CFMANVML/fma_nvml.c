/* NVML loaded with dlopen: see include/fma_nvml.h. */
#define _POSIX_C_SOURCE 200809L
#include "fma_nvml.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* NVML's structures, as nvml.h declares them (fma does not need the header). */
typedef struct {
    unsigned long long total;
    unsigned long long free;
    unsigned long long used;
} nvml_memory;

typedef struct {
    unsigned int pid;
    unsigned long long usedGpuMemory;
} nvml_process_v1;

typedef struct {
    unsigned int pid;
    unsigned long long usedGpuMemory;
    unsigned int gpuInstanceId;
    unsigned int computeInstanceId;
} nvml_process_v2;

typedef int (*nvml_void_fn)(void);
typedef int (*nvml_count_fn)(unsigned int *);
typedef int (*nvml_handle_fn)(unsigned int, fma_nvml_device *);
typedef int (*nvml_string_fn)(fma_nvml_device, char *, unsigned int);
typedef int (*nvml_memory_fn)(fma_nvml_device, nvml_memory *);
typedef int (*nvml_processes_fn)(fma_nvml_device, unsigned int *, void *);
typedef const char *(*nvml_error_fn)(int);

/* The resolved functions; set once under `lock`, read-only afterwards. */
static struct {
    void *library;
    nvml_void_fn init;
    nvml_void_fn shutdown;
    nvml_count_fn device_count;
    nvml_handle_fn device_by_index;
    nvml_string_fn device_uuid;
    nvml_string_fn device_name;
    nvml_memory_fn device_memory;
    nvml_processes_fn device_processes;
    int processes_v2; /* 1 when device_processes fills nvml_process_v2 records */
    nvml_error_fn error_string;
} nvml;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* The first of `names` the library exports, or NULL. */
static void *resolve(void *library, const char *const *names, const char **found) {
    for (; *names != NULL; names++) {
        void *symbol = dlsym(library, *names);
        if (symbol != NULL) {
            if (found != NULL) *found = *names;
            return symbol;
        }
    }
    return NULL;
}

int fma_nvml_load(const char *library, char *error, size_t error_size) {
    const char *path = library != NULL ? library : "libnvidia-ml.so.1";
    pthread_mutex_lock(&lock);
    if (nvml.library != NULL) {
        pthread_mutex_unlock(&lock);
        return 0;
    }
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        const char *reason = dlerror();
        snprintf(error, error_size, "%s", reason != NULL ? reason : "dlopen failed");
        pthread_mutex_unlock(&lock);
        return -1;
    }
    static const char *const init_names[] = {"nvmlInit_v2", "nvmlInit", NULL};
    static const char *const shutdown_names[] = {"nvmlShutdown", NULL};
    static const char *const count_names[] = {"nvmlDeviceGetCount_v2", "nvmlDeviceGetCount", NULL};
    static const char *const handle_names[] = {"nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex", NULL};
    static const char *const uuid_names[] = {"nvmlDeviceGetUUID", NULL};
    static const char *const name_names[] = {"nvmlDeviceGetName", NULL};
    static const char *const memory_names[] = {"nvmlDeviceGetMemoryInfo", NULL};
    static const char *const error_names[] = {"nvmlErrorString", NULL};
    static const char *const processes_names[] = {
        "nvmlDeviceGetComputeRunningProcesses_v3", "nvmlDeviceGetComputeRunningProcesses_v2",
        "nvmlDeviceGetComputeRunningProcesses", NULL};
    struct {
        void **slot;
        const char *const *names;
    } wanted[] = {
        {(void **)&nvml.init, init_names},
        {(void **)&nvml.shutdown, shutdown_names},
        {(void **)&nvml.device_count, count_names},
        {(void **)&nvml.device_by_index, handle_names},
        {(void **)&nvml.device_uuid, uuid_names},
        {(void **)&nvml.device_name, name_names},
        {(void **)&nvml.device_memory, memory_names},
        {(void **)&nvml.error_string, error_names},
    };
    for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++) {
        *wanted[i].slot = resolve(handle, wanted[i].names, NULL);
        if (*wanted[i].slot == NULL) {
            snprintf(error, error_size, "%s does not export %s", path, wanted[i].names[0]);
            memset(&nvml, 0, sizeof nvml);
            dlclose(handle);
            pthread_mutex_unlock(&lock);
            return -1;
        }
    }
    const char *processes_name = NULL;
    nvml.device_processes = (nvml_processes_fn)resolve(handle, processes_names, &processes_name);
    nvml.processes_v2 = processes_name != NULL && strcmp(processes_name, "nvmlDeviceGetComputeRunningProcesses") != 0;
    nvml.library = handle;
    pthread_mutex_unlock(&lock);
    return 0;
}

int fma_nvml_init(void) {
    return nvml.init != NULL ? nvml.init() : FMA_NVML_NOT_LOADED;
}

int fma_nvml_shutdown(void) {
    return nvml.shutdown != NULL ? nvml.shutdown() : FMA_NVML_NOT_LOADED;
}

int fma_nvml_device_count(unsigned int *count) {
    return nvml.device_count != NULL ? nvml.device_count(count) : FMA_NVML_NOT_LOADED;
}

int fma_nvml_device_by_index(unsigned int index, fma_nvml_device *device) {
    return nvml.device_by_index != NULL ? nvml.device_by_index(index, device) : FMA_NVML_NOT_LOADED;
}

int fma_nvml_device_uuid(fma_nvml_device device, char *uuid, unsigned int size) {
    return nvml.device_uuid != NULL ? nvml.device_uuid(device, uuid, size) : FMA_NVML_NOT_LOADED;
}

int fma_nvml_device_name(fma_nvml_device device, char *name, unsigned int size) {
    return nvml.device_name != NULL ? nvml.device_name(device, name, size) : FMA_NVML_NOT_LOADED;
}

int fma_nvml_device_memory(fma_nvml_device device, unsigned long long *total_bytes, unsigned long long *used_bytes) {
    if (nvml.device_memory == NULL) return FMA_NVML_NOT_LOADED;
    nvml_memory memory;
    int result = nvml.device_memory(device, &memory);
    if (result == FMA_NVML_SUCCESS) {
        *total_bytes = memory.total;
        *used_bytes = memory.used;
    }
    return result;
}

int fma_nvml_device_processes(fma_nvml_device device, unsigned int *count, fma_nvml_process *processes) {
    if (nvml.device_processes == NULL) return FMA_NVML_NOT_LOADED;
    unsigned int capacity = *count;
    size_t record = nvml.processes_v2 ? sizeof(nvml_process_v2) : sizeof(nvml_process_v1);
    void *raw = capacity > 0 ? calloc(capacity, record) : NULL;
    if (capacity > 0 && raw == NULL) return FMA_NVML_ERROR_INSUFFICIENT_SIZE;
    int result = nvml.device_processes(device, count, raw);
    if (result == FMA_NVML_SUCCESS) {
        for (unsigned int i = 0; i < *count && i < capacity; i++) {
            if (nvml.processes_v2) {
                nvml_process_v2 *p = (nvml_process_v2 *)raw + i;
                processes[i].pid = p->pid;
                processes[i].used_memory_bytes = p->usedGpuMemory;
            } else {
                nvml_process_v1 *p = (nvml_process_v1 *)raw + i;
                processes[i].pid = p->pid;
                processes[i].used_memory_bytes = p->usedGpuMemory;
            }
        }
    }
    free(raw);
    return result;
}

const char *fma_nvml_error_string(int result) {
    if (result == FMA_NVML_NOT_LOADED) return "NVML is not loaded";
    if (nvml.error_string == NULL) return "unknown NVML error";
    const char *text = nvml.error_string(result);
    return text != NULL ? text : "unknown NVML error";
}
