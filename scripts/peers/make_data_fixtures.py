"""Writes the small NumPy and Parquet files under data/fixtures/ that the tests read, from the
project's own CSV files, with the real NumPy and pyarrow (versions pinned in
requirements-fixtures.txt). Run from the repository root:

    python scripts/peers/make_data_fixtures.py

The tests compare what the toolkit reads from these files with the same CSV read by the
toolkit's CSV reader, so the check does not depend on this script's arithmetic.
"""
import csv

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

with open("data/iris.csv") as f:
    rows = list(csv.reader(f))
header, body = rows[0], rows[1:]
x = np.array([[float(c) for c in r[:4]] for r in body])
y = np.array([int(r[4]) for r in body])

# Compressed (deflate), float64 in C order, int64 labels.
np.savez_compressed("data/fixtures/iris.npz", X=x, y=y)
# Stored (no compression), float32 in Fortran order, uint8 labels, and a third array.
np.savez(
    "data/fixtures/iris_f32_fortran.npz",
    X=np.asfortranarray(x.astype(np.float32)),
    y=y.astype(np.uint8),
    names=np.array(header[:4]),
)

# The wine table as a user has it: a text id, a categorical text column, text labels and one
# missing cell, in Parquet (snappy, pyarrow's default) and in CSV for the comparison.
with open("data/wine.csv") as f:
    rows = list(csv.reader(f))
header, body = rows[0], rows[1:]
wines = ["barolo", "grignolino", "barbera"]
regions = ["piedmont", "tuscany", "veneto"]
columns = {"id": [f"w{k:03}" for k in range(len(body))]}
for j, name in enumerate(header[:-1]):
    columns[name] = [float(r[j]) for r in body]
columns["magnesium"][4] = None
columns["region"] = [regions[k % 3] for k in range(len(body))]
columns["wine"] = [wines[int(r[-1])] for r in body]
table = pa.table(columns)
pq.write_table(table, "data/fixtures/wine_own.parquet")
pq.write_table(table, "data/fixtures/wine_own_zstd.parquet", compression="zstd")
with open("data/fixtures/wine_own.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(list(columns))
    for k in range(len(body)):
        w.writerow(["" if columns[c][k] is None else (repr(columns[c][k]) if isinstance(columns[c][k], float) else columns[c][k]) for c in columns])
