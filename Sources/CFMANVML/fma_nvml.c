#include "fma_nvml.h"
