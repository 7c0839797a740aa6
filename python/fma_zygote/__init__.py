"""The launcher's zygote: imports the heavy modules once, then forks instances on command.

The launcher (``fma-launcher``) starts ``python3 -m fma_zygote --control-fd 3 --preload M ...``
with one end of a Unix socket pair as fd 3. The zygote imports every preload module, freezes
the garbage collector's view of what it imported (``gc.freeze()``, so forked children do not
dirty those pages), reports ``ZygoteReady`` and then serves ``ZygoteCommand`` frames (4-byte
big-endian length, then a ``fma.v1.ZygoteCommand``) and answers with ``fma.v1.ZygoteEvent``
frames. See ``fma_zygote.zygote`` for the child's set-up.
"""
