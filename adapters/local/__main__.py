import sys

from adapters.local.recorder import main

sys.exit(main())
