print("fma-launcher: not built yet")
