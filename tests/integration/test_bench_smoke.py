"""The benchmark suite's smoke run: every section runs with tiny sizes, so ``make bench`` cannot rot."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SECTIONS = ("floor", "http_sqlite", "throughput", "big_database", "growth", "timers", "memory")


def test_the_bench_smoke_run_prints_the_table_and_writes_every_section_and_target_as_json(tmp_path):
    figures_file = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, "-m", "bench", "--smoke", "--backend", "sqlite", "--json",
                           str(figures_file)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]

    figures = json.loads(figures_file.read_text(encoding="utf-8"))
    assert set(SECTIONS) <= set(figures)
    assert figures["floor"]["serialized"]["median_ms"] > figures["floor"]["in_memory"]["median_ms"] > 0
    assert figures["http_sqlite"]["median_ms"] > 0
    assert figures["throughput"]["count"] > 0 and figures["throughput"]["errors"] == 0
    assert figures["big_database"]["office_open_tasks"] >= 0
    assert figures["big_database"]["dashboard_page"]["count"] == 2
    assert figures["timers"]["moved_on"] == figures["timers"]["timers"] == 1
    assert figures["memory"]["advanced"] == figures["memory"]["lifecycles"] == 20
    assert figures["memory"]["rss_end_mib"] > 0
    names = [t["name"] for t in figures["targets"]]
    assert len(names) == 11 and all(isinstance(t["holds"], bool) for t in figures["targets"])
    for name in names:
        assert name in done.stdout
    assert "1 floor: raw SpiffWorkflow in memory" in done.stdout


def test_the_in_process_profile_counts_the_sql_of_every_request_of_a_lifecycle(tmp_path):
    profile = tmp_path / "profile.txt"
    done = subprocess.run([sys.executable, "-m", "bench.profile", "--lifecycles", "1", "--pyinstrument",
                           str(profile)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]

    counts = {line.rsplit(maxsplit=1)[0].strip(): float(line.rsplit(maxsplit=1)[1])
              for line in done.stdout.splitlines() if line.startswith("  ")}
    assert counts["complete leader_review"] > 0 and counts["timer pass (worker)"] > 0
    assert counts["total"] == sum(v for k, v in counts.items() if k != "total")
    assert "complete_task" in profile.read_text(encoding="utf-8")
