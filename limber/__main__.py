import sys

from limber.cli import main

sys.exit(main())
