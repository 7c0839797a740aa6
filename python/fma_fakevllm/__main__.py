"""``python3 -m fma_fakevllm``: see ``fma_fakevllm.server.main``."""

import sys

from fma_fakevllm.server import main

sys.exit(main())
