"""chacra_analysis: tidy pandas frames, figures and an HTML report from chacra output files.

    from chacra_analysis import ChacraOutput, load_panel, load_comparison
    panel = load_panel("default.h5", ["income_monetary_pen", "tech_state"], arms="both", periods=-1)

See docs/analysis.md. Needs h5py, numpy, pandas and matplotlib (Debian: python3-h5py python3-pandas
python3-matplotlib).
"""

from .loader import (
    COMPARISON_COLUMNS,
    ChacraFileError,
    ChacraOutput,
    compare_json,
    find_chacra,
    load_aggregates,
    load_comparison,
    load_evaluation,
    load_panel,
    load_population,
    load_provenance,
    load_variables,
)
from .sweep import ChacraSweep, load_sweep_effects

__all__ = [
    "COMPARISON_COLUMNS",
    "ChacraFileError",
    "ChacraOutput",
    "ChacraSweep",
    "compare_json",
    "find_chacra",
    "load_aggregates",
    "load_comparison",
    "load_evaluation",
    "load_panel",
    "load_population",
    "load_provenance",
    "load_sweep_effects",
    "load_variables",
]
