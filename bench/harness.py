"""What the database benchmarks share: run ``measure(url, repeat)`` on the full demo district.

The demo is built in a temporary file unless ``--url`` names a database that already holds it;
each result is printed as ``key: value`` lines and then as one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
from collections.abc import Callable
from pathlib import Path

from minqing.store import get_engine


def run_on_full_demo(measure: Callable[[str, int], dict], *, description: str, repeat: int,
                     as_of: dt.date) -> None:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--url", help="a database holding the full demo (default: build one)")
    parser.add_argument("--repeat", type=int, default=repeat)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url
        if url is None:
            from minqing.demo import build

            url = f"sqlite:///{Path(tmp) / 'full.db'}"
            build(url, scale="full", seed=2026, as_of=as_of, progress=True)
        result = measure(url, args.repeat)
        get_engine(url).dispose()
    for key, value in result.items():
        print(f"{key}: {value}")
    print(json.dumps(result))
