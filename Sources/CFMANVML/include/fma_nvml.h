#ifndef FMA_NVML_H
#define FMA_NVML_H
/* Placeholder: the NVML loader is written with the GPU inventory. */
#endif
