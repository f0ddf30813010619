"""The table: every figure of one run next to its target, and the verdicts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Check:
    """One target: what was measured, the limit, and whether it held."""

    name: str
    value: float
    limit: float
    unit: str
    at_most: bool = True

    @property
    def holds(self) -> bool:
        return self.value <= self.limit if self.at_most else self.value >= self.limit

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "limit": self.limit, "unit": self.unit,
                "at_most": self.at_most, "holds": self.holds}


def checks(f: dict[str, Any]) -> list[Check]:
    """The issue's targets, evaluated on the figures of one run."""
    floor_ms = f["floor"]["serialized"]["median_ms"]
    big, memory = f["big_database"], f["memory"]
    return [
        Check("HTTP lifecycle on SQLite / serialize floor", round(f["http_sqlite"]["median_ms"] / floor_ms, 1), 3,
              "x"),
        Check(f"completions per second ({f['throughput']['clients']} clients, {f['throughput']['workers']} workers)",
              f["throughput"]["completions_per_s"], 300, "/s", at_most=False),
        Check("completion p95 under load", f["throughput"]["p95_ms"], 25, "ms"),
        Check("inbox p95 (GET /api/v1/tasks, office)", big["inbox_api_office"]["p95_ms"], 20, "ms"),
        Check("inbox page p95 (GET /tasks, office)", big["inbox_page_office"]["p95_ms"], 20, "ms"),
        Check("dashboard p95 (GET /supervise/)", big["dashboard_page"]["p95_ms"], 100, "ms"),
        Check("completion cost, largest / smallest history", f["growth"]["ratio"], 1.5, "x"),
        Check("  the same, workflow restored from its state each time", f["growth"]["restored_ratio"], 1.5, "x"),
        Check("timer moved on after due, max", f["timers"]["max_ms"], 2000, "ms"),
        Check("worker RSS at the end", memory["rss_end_mib"], 150, "MiB"),
        Check("worker RSS growth over the second half", memory["growth_second_half_mib"], 5, "MiB"),
    ]


def table(f: dict[str, Any]) -> str:
    """The figures and the targets as one plain-text table."""
    meta = f["meta"]
    lines = [
        f"PressFlow bench — {meta['started_at']}, {meta['seconds']} s, main backend {meta['backend']}; "
        f"Python {meta['python']}, SpiffWorkflow {meta['spiffworkflow']}, SQLAlchemy {meta['sqlalchemy']}",
        f"load average at start {meta['load_average_start']}, at end {meta['load_average_end']}",
        "",
        f"{'section / figure':<58} {'value':>12}",
    ]
    lines += [f"{name:<58} {value:>12}" for name, value in _rows(f)]
    lines += ["", f"{'target':<58} {'value':>12} {'limit':>10}  verdict"]
    for c in checks(f):
        sign = "≤" if c.at_most else "≥"
        lines.append(f"{c.name:<58} {c.value:>10}{c.unit:<2} {sign}{c.limit:>8}{c.unit:<2} "
                     f"{'holds' if c.holds else 'MISSED'}")
    return "\n".join(lines)


def _rows(f: dict[str, Any]) -> list[tuple[str, str]]:
    fl, tp, big, gr, tm, mem = f["floor"], f["throughput"], f["big_database"], f["growth"], f["timers"], f["memory"]
    rows = [
        ("1 floor: raw SpiffWorkflow in memory, ms/lifecycle", f"{fl['in_memory']['median_ms']}"),
        ("1 floor: + serialize/deserialize every task, ms/lifecycle", f"{fl['serialized']['median_ms']}"),
    ]
    for key, label in (("http_sqlite", "SQLite"), ("http_postgresql", "PostgreSQL")):
        if key in f:
            ms = f[key]["median_ms"]
            rows.append((f"2 HTTP lifecycle on {label}, ms (x floor)",
                         f"{ms} ({ms / fl['serialized']['median_ms']:.1f}x)"))
            rows.append((f"2   of which gunicorn worker CPU on {label}, ms (x floor CPU)",
                         f"{f[key]['server_cpu_ms']} ({f[key]['server_cpu_ms'] / fl['serialized']['cpu_ms']:.1f}x)"))
    rows += [
        (f"3 completions/s, {tp['clients']} clients, {tp['workers']} workers, {tp['seconds']} s",
         f"{tp['completions_per_s']}"),
        ("3 completion latency p50 / p95 / p99, ms", f"{tp['p50_ms']}/{tp['p95_ms']}/{tp['p99_ms']}"),
        ("3 errors under load", f"{tp['errors']}"),
        ("3 gunicorn worker RSS after the load, MiB", f"{tp.get('web_worker_rss_mib', '-')}"),
        (f"4 bulk load of {big['instances']} instances, s", f"{big['load_seconds']}"),
    ]
    for key in ("inbox_api_office", "inbox_api_leader", "inbox_page_office", "instances_api", "instances_page",
                "dashboard_page"):
        rows.append((f"4 {key.replace('_', ' ')} p50 / p95, ms", f"{big[key]['p50_ms']}/{big[key]['p95_ms']}"))
    for size, g in gr["sizes"].items():
        rows.append((f"5 completion with {size} done ({g['spiff_tasks']} spiff tasks, {g['state_kib']} KiB), ms",
                     f"{g['completion_ms']} (restored {g['restored_ms']})"))
    rows += [
        (f"6 timer moved on after due, p50 / max of {tm['timers']}, ms", f"{tm['p50_ms']}/{tm['max_ms']}"),
        (f"7 worker: {mem['advanced']} lifecycles' timers in {mem['seconds']} s, per s", f"{mem['per_second']}"),
        ("7 worker RSS first / half-way / end, MiB",
         f"{mem['rss_first_mib']}/{mem['rss_half_mib']}/{mem['rss_end_mib']}"),
    ]
    return rows
