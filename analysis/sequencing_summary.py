#!/usr/bin/env python3
"""Which sequence is best, for whom: ranks the arms of a chacra output file on sustained exits from poverty per
PEN, with 95% intervals and the probability that each arm is best over replicates, by subgroup.

    python3 analysis/sequencing_summary.py OUT.h5 [--reference ARM] [--sustain-years 3] [--discount-rate 0.05]
                                           [--format table|csv|json]

See docs/analysis.md. Exit status 2 on bad input (no file, a missing variable, an unknown arm).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from chacra_analysis.sequencing import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
