// placeholder until the target has tests
