"""Report of ``scripts/bench_peers.py``: Markdown tables, the JSON record and a bar chart.

Ratios are speed-ups: ``reference ms / row ms`` (above 1: the row is faster). The peers are every
library but tacjax (plain JAX included); "fastest peer" is the one with the lowest median.
"""

from __future__ import annotations

import json
from pathlib import Path

from tacjax.common.files import atomic_write_text

__all__ = ["draw", "markdown", "row_label", "write"]


def row_label(rec: dict, k: int) -> str:
    """``tacjax TAC K=5``, ``plain JAX``, ... for one timing record."""
    label = rec.get("label", rec["lib"])
    variant = rec.get("variant", "default")
    if variant == "default":
        return label
    names = {"baseline": f"{label} baseline", "tac": f"{label} TAC K={k}", "tac_tp": f"{label} TAC-TP K={k}"}
    return names[variant]


def _ratio(ref: float | None, ms: float) -> str:
    return f"{ref / ms:.2f}x" if ref else "-"


def _mib(v) -> str:
    return "-" if v is None else f"{v:.0f}" if v >= 10 else f"{v:.2f}"


def _workload_table(name: str, recs: list[dict], k: int) -> list[str]:
    ok = [r for r in recs if r.get("status") == "ok"]
    jax_ms = next((r["ms"]["median"] for r in ok if r["lib"] == "jax"), None)
    peers = [r["ms"]["median"] for r in ok if r["lib"] != "tacjax"]
    fastest = min(peers) if peers else None
    lines = [f"### {name}", "",
             "| library | median ms | min - max ms | IQR ms | vs plain JAX | vs fastest peer | peak RSS MiB "
             "| XLA temp MiB | device peak MiB | loss at step 0 |", "|" + "---|" * 10]
    for r in recs:
        if r.get("status") != "ok":
            lines.append(f"| {row_label(r, k)} | failed: {r.get('reason', r.get('status'))} |" + " |" * 8)
            continue
        ms, mem = r["ms"], r.get("memory") or {}
        temp = mem.get("temp") / 2**20 if "temp" in mem else None
        lines.append(f"| {row_label(r, k)} | {ms['median']:.1f} | {ms['min']:.1f} - {ms['max']:.1f} "
                     f"| {ms['q1']:.1f} - {ms['q3']:.1f} | {_ratio(jax_ms, ms['median'])} "
                     f"| {_ratio(fastest, ms['median'])} | {_mib(r.get('rss_peak_mib'))} | {_mib(temp)} "
                     f"| {_mib(r.get('device_peak_mib'))} | {ms['loss0']:.4g} |")
    return lines + [""]


def _semantics_table(checks: dict) -> list[str]:
    lines = ["### Spike semantics (each library against a NumPy loop of its documented rule)", "",
             "| library | version | documented rule | follows it | same as the workload's rule | "
             "spikes differing from the workload's rule |", "|" + "---|" * 6]
    for lib, rec in checks.items():
        if rec.get("status") != "ok":
            lines.append(f"| {lib} | - | skipped: {rec.get('reason', rec.get('status'))} | | | |")
            continue
        s = rec["semantics"]
        w = s["workload_rule"]
        lines.append(f"| {rec['label']} | {rec['version']} | `{s['rule']}` | "
                     f"{'pass' if s['pass'] else 'FAIL (' + str(s['own_rule']['mismatches']) + ' spikes)'} | "
                     f"{'yes' if s['same_as_workload'] else 'no'} | {w['mismatches']} of {w['positions']} |")
    return lines + [""]


def markdown(result: dict) -> str:
    """The whole report: configuration line, semantics table, one table per workload."""
    cfg = result["config"]
    rt = cfg.get("runtime", {})
    head = [f"## Peers: forward+backward per step (medians of {cfg['repeats']} steps x {cfg['rounds']} "
            f"process(es), {cfg['warmup']} warm-up)", "",
            f"Backend {rt.get('backend')} ({', '.join(rt.get('devices', []))}), {cfg['threads']} thread(s) ("
            f"{'each process pinned to as many cores' if cfg['pin'] else 'not pinned: XLA uses all cores'}), "
            f"tcmalloc {'preloaded' if 'tcmalloc' in cfg['ld_preload'] else 'not preloaded'}, "
            f"XLA_FLAGS `{cfg['xla_flags']}`, "
            f"jax {rt.get('jax')}; one process per library and workload.", ""]
    if not result.get("complete", True):
        head += ["**Incomplete: the run stopped before every worker had run.**", ""]
    lines = head + _semantics_table(result["checks"])
    for name, recs in result["workloads"].items():
        lines += _workload_table(name, recs, cfg["k"])
    return "\n".join(lines)


def draw(result: dict, path: Path) -> bool:
    """Bar chart of median ms per step (error bars: min to max), one panel per workload.

    Returns False (and writes nothing) when matplotlib is not installed.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    names = list(result["workloads"])
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 4), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        recs = [r for r in result["workloads"][name] if r.get("status") == "ok"]
        med = [r["ms"]["median"] for r in recs]
        err = [[m - r["ms"]["min"] for m, r in zip(med, recs, strict=True)],
               [r["ms"]["max"] - m for m, r in zip(med, recs, strict=True)]]
        colors = ["tab:blue" if r["lib"] == "tacjax" else "tab:gray" for r in recs]
        ax.bar(range(len(recs)), med, yerr=err, capsize=3, color=colors)
        ax.set_xticks(range(len(recs)), [row_label(r, result["config"]["k"]) for r in recs],
                      rotation=35, ha="right", fontsize=8)
        ax.set_ylabel("ms per step")
        ax.set_title(name, fontsize=9)
    fig.suptitle("median ms per step (error bars: min to max); tacjax in blue", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def write(result: dict, out: Path, plot: bool = True) -> list[Path]:
    """Write ``peers.json``, ``peers.md`` and, with ``plot`` and matplotlib, ``peers.png`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "peers.json", out / "peers.md"]
    atomic_write_text(paths[0], json.dumps(result, indent=1))
    atomic_write_text(paths[1], markdown(result) + "\n")
    if plot and draw(result, out / "peers.png"):
        paths.append(out / "peers.png")
    return paths
