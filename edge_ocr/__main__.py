"""python -m edge_ocr: the same as the edge-ocr command."""

import sys

from edge_ocr.cli import main

sys.exit(main())
