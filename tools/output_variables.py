#!/usr/bin/python3
"""Prints the variable tables of docs/output.md from a chacra output file's own attributes (unit, description,
aggregation, labels), so the documentation lists exactly what a run writes.

    build/chacra run -o variables.h5 --force --quiet && /usr/bin/python3 tools/output_variables.py variables.h5

The docs test (tests/docs/run_docs.py) runs the command in docs/output.md's generated section and fails when
the section differs from its output; `run_docs.py --update docs/output.md` rewrites it.
"""

import os
import sys
import textwrap

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "analysis"))

from chacra_analysis import ChacraOutput  # noqa: E402


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _para(text: str) -> list[str]:
    return textwrap.wrap(text, width=110, break_on_hyphens=False) + [""]


def _name(row) -> str:
    if row["width"] > 1:
        labels = row["labels"]
        if labels and labels != [str(k) for k in range(row["width"])]:
            return f"`{row['variable']}` [{row['width']}]: {', '.join(f'`{l}`' for l in labels)}"
        return f"`{row['variable']}` [{row['width']}]"
    return f"`{row['variable']}`"


def tables(path: str) -> str:
    out = []
    with ChacraOutput(path) as f:
        panel = f.variables("panel")
        out += ["### Panel variables", ""] + _para(
                "Recorded for every household in every output period when `output.variables` is empty (the "
                "default): `/arms/<arm>/replicate_R/panel/<variable>`, and its household mean in `aggregates/`. "
                "\"Sum\" variables are flows summed over the months of the period; \"end\" variables are states at "
                "the end of the period. `[N]` is the width of a variable with one value per label.") + [
                "| variable | unit | period value | description |", "|---|---|---|---|"]
        for _, r in panel.iterrows():
            period = {"sum over the period": "sum", "end of period": "end"}.get(r["aggregation"], r["aggregation"])
            out.append(f"| {_name(r)} | {_cell(r['unit'])} | {period} | {_cell(r['description'])} |")
        households = f.variables("households")
        out += ["", "### Household columns", ""] + _para(
                "Every column of the household table, at month 0, in `/population/replicate_R/households/`. Any of "
                "them can be recorded in the panel by naming it in `output.variables` (an empty list records the "
                "panel variables above).") + [
                "| column | unit | description |", "|---|---|---|"]
        out += [f"| {_name(r)} | {_cell(r['unit'])} | {_cell(r['description'])} |" for _, r in households.iterrows()]
        for table, where in (("centres", "population centres"), ("districts", "districts")):
            frame = f.variables(table)
            out += ["", f"### {table.capitalize()}", ""] + _para(
                    f"The {where} of each replicate's population, in `/population/replicate_R/{table}/` (state at "
                    f"month 0).") + [
                    "| column | unit | description |", "|---|---|---|"]
            out += [f"| {_name(r)} | {_cell(r['unit'])} | {_cell(r['description'])} |" for _, r in frame.iterrows()]
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        sys.stdout.write(tables(argv[0]))
    except (OSError, KeyError, ValueError) as e:
        print(f"output_variables.py: {argv[0]}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
