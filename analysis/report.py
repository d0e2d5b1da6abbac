#!/usr/bin/env python3
"""Figures and a self-contained HTML report of a chacra output file.

    python3 analysis/report.py OUT.h5 -o DIR [--evaluation EVAL.json] [--reference ARM] [--chacra PATH]

Writes DIR/income_consumption.png, poverty.png, adoption.png, reach_funnel.png, quantile_effects.png,
effect_paths.png, cost_effect_frontier.png
(and evaluation_forest.png with --evaluation), DIR/report.html (figures embedded) and DIR/report_data.json
(every number shown). See docs/analysis.md.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from chacra_analysis.report import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
