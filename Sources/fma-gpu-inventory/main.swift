print("fma-gpu-inventory: not built yet")
