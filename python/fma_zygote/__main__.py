"""``python3 -m fma_zygote``: see ``fma_zygote.zygote.main``."""

import sys

from fma_zygote.zygote import main

sys.exit(main())
