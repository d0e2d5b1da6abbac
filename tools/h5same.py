#!/usr/bin/python3
"""Bit-identity of two chacra output files (tools/bitcheck.sh): every dataset of the reference under the given
groups must exist in the new file with the same type, shape, bytes and attributes. Datasets only in the new file
(new columns or tables), and attributes only in the new file's datasets (flag_values...), are additions and are
listed, not failed.

usage: tools/h5same.py REF.h5 NEW.h5 [GROUP ...]   (default groups: /arms /population /comparison /periods)
exit status 0 identical, 1 a difference (listed), 2 usage or unreadable file."""
import sys

import h5py
import numpy as np


def datasets(f, root):
    out = {}
    if root not in f:
        return out
    obj = f[root]
    if isinstance(obj, h5py.Dataset):
        return {root: obj}
    obj.visititems(lambda name, o: out.__setitem__(f"{root}/{name}", o) if isinstance(o, h5py.Dataset) else None)
    return out


def same_values(x, y):
    x, y = np.asarray(x), np.asarray(y)
    if x.dtype != y.dtype or x.shape != y.shape:
        return False
    if x.dtype.kind == "O":  # variable-length strings: compare the values, not the object pointers
        return x.tolist() == y.tolist()
    return x.tobytes() == y.tobytes()


def same_attrs(a, b):
    """The reference's attributes are all in the new dataset with the same values; attributes only in the new
    dataset (a coded variable's flag_values...) are additions, not differences."""
    if not set(a.attrs) <= set(b.attrs):
        return False
    return all(same_values(a.attrs[k], b.attrs[k]) for k in a.attrs)


def added_attrs(a, b):
    return sorted(set(b.attrs) - set(a.attrs))


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    groups = argv[3:] or ["/arms", "/population", "/comparison", "/periods"]
    try:
        ref, new = h5py.File(argv[1], "r"), h5py.File(argv[2], "r")
    except OSError as e:
        print(f"h5same: {e}", file=sys.stderr)
        return 2
    bad, added, new_attrs = [], [], set()
    for g in groups:
        a, b = datasets(ref, g), datasets(new, g)
        for path, d in a.items():
            if path not in b:
                bad.append(f"{path}: missing in the new file")
                continue
            e = b[path]
            x, y = d[()], e[()]
            if np.asarray(x).dtype != np.asarray(y).dtype or np.shape(x) != np.shape(y):
                bad.append(f"{path}: type or shape differs ({np.asarray(x).dtype}{np.shape(x)} vs {np.asarray(y).dtype}{np.shape(y)})")
            elif not same_values(x, y):
                bad.append(f"{path}: values differ")
            elif not same_attrs(d, e):
                bad.append(f"{path}: attributes differ")
            new_attrs.update(added_attrs(d, e))
        added += sorted(set(b) - set(a))
    for line in bad[:40]:
        print(f"h5same: {line}", file=sys.stderr)
    if added:
        print(f"h5same: {len(added)} dataset(s) only in the new file (additions), e.g. {added[0]}")
    if new_attrs:
        print(f"h5same: attribute(s) only in the new file (additions): {', '.join(sorted(new_attrs))}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
