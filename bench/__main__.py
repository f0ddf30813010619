"""``python -m bench`` (``make bench``): run the whole suite, print the table, write the JSON."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.report import checks, table
from bench.suite import FULL, SMOKE, pick_backend, run_suite

DEFAULT_JSON = Path("bench-results.json")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description="PressFlow's benchmark suite.")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the suite runs (seconds)")
    parser.add_argument("--backend", choices=("auto", "postgresql", "sqlite"), default="auto",
                        help="database of sections 2-7 besides SQLite (default: PostgreSQL when reachable)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"where to write the figures ({DEFAULT_JSON})")
    args = parser.parse_args(argv)
    backend = pick_backend(args.backend)
    figures = run_suite(SMOKE if args.smoke else FULL, backend,
                        lambda what: print(f"… {what}", file=sys.stderr, flush=True))
    figures["targets"] = [c.as_dict() for c in checks(figures)]
    args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(table(figures))
    print(f"\nfigures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
