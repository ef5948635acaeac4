#!/usr/bin/env python3
"""The baselines a data-savvy admin would use: read the admin-center users export and do the same
light normalisation bms2intune does on import (lower-case UPNs, split Licenses on a `+` that is not
part of a product name such as "Enterprise Mobility + Security E3", count distinct).

python bench/baselines.py ENGINE FILE
  ENGINE: pandas-csv (read_csv, C engine) | polars-csv (read_csv) |
          pandas-xlsx (read_excel, openpyxl) | polars-xlsx (read_excel, calamine via fastexcel)
Prints one JSON line: engine, rows, distinct_upns, distinct_licenses, read_s, normalise_s,
total_s (in-process, imports excluded).
"""

import json
import sys
import time

UPN = "User principal name"
LIC = "Licenses"
HOLD = "\x00"  # stands for " + " inside a product name while splitting on "+"


def pandas_norm(df):
    upns = df[UPN].astype("string").str.lower()
    lic = (df[LIC].astype("string").fillna("")
           .str.replace(" + ", HOLD, regex=False).str.split("+", regex=False).explode()
           .str.replace(HOLD, " + ", regex=False))
    lic = lic[(lic != "") & (lic != "Unlicensed")]
    return len(df), int(upns.nunique()), int(lic.nunique())


def polars_norm(df):
    import polars as pl
    upns = df.get_column(UPN).cast(pl.Utf8).str.to_lowercase()
    lic = (df.get_column(LIC).cast(pl.Utf8).fill_null("")
           .str.replace_all(" + ", HOLD, literal=True).str.split("+").explode()
           .str.replace_all(HOLD, " + ", literal=True))
    lic = lic.filter((lic != "") & (lic != "Unlicensed"))
    return df.height, int(upns.n_unique()), int(lic.n_unique())


def main():
    engine, path = sys.argv[1], sys.argv[2]
    t0 = time.perf_counter()
    if engine == "pandas-csv":
        import pandas as pd
        t0 = time.perf_counter()
        df = pd.read_csv(path, engine="c", dtype=str, keep_default_na=False, encoding="utf-8-sig")
        t1 = time.perf_counter()
        rows, upns, lics = pandas_norm(df)
    elif engine == "pandas-xlsx":
        import pandas as pd
        t0 = time.perf_counter()
        df = pd.read_excel(path, engine="openpyxl", dtype=str)
        t1 = time.perf_counter()
        rows, upns, lics = pandas_norm(df)
    elif engine == "polars-csv":
        import polars as pl
        t0 = time.perf_counter()
        df = pl.read_csv(path, infer_schema=False, encoding="utf8")
        t1 = time.perf_counter()
        rows, upns, lics = polars_norm(df)
    elif engine == "polars-xlsx":
        import polars as pl
        t0 = time.perf_counter()
        df = pl.read_excel(path, engine="calamine")
        t1 = time.perf_counter()
        rows, upns, lics = polars_norm(df)
    else:
        sys.exit(f"unknown engine {engine}")
    t2 = time.perf_counter()
    print(json.dumps({"engine": engine, "rows": rows, "distinct_upns": upns,
                      "distinct_licenses": lics, "read_s": round(t1 - t0, 3),
                      "normalise_s": round(t2 - t1, 3), "total_s": round(t2 - t0, 3)}))


if __name__ == "__main__":
    main()
