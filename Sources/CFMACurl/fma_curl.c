#include "fma_curl.h"
