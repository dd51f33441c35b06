"""py-spy sampling of a service process (requirements-dev.txt): collapsed stacks into
``DIR/<phase>.txt`` and a summary of where the samples were spent (CPU time: bench/harness.py)."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections import Counter
from pathlib import Path


def summary(collapsed: Path, top: int = 25) -> str:
    """Inclusive share of samples per function (a function counted once per stack)."""
    inclusive: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        total += n
        for frame in set(stack.split(";")):
            inclusive[frame] += n
    lines = [f"  {n / total:6.1%}  {frame}" for frame, n in inclusive.most_common(top)]
    return f"  {total} samples\n" + "\n".join(lines)


class Profiler:
    def __init__(self, pid: int, directory: Path | None) -> None:
        self.pid = pid
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None
        self.out: Path | None = None

    def start(self, phase: str) -> None:
        if self.directory is None:
            return
        py_spy = shutil.which("py-spy") or str(Path(__file__).resolve().parents[2] / ".venv/bin/py-spy")
        self.out = self.directory / f"{phase}.txt"
        self.process = subprocess.Popen(
            [py_spy, "record", "--pid", str(self.pid), "--rate", "1000", "--format", "raw",
             "--nonblocking", "-o", str(self.out)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(1.0)  # py-spy attaches

    def stop(self) -> None:
        if self.process is None or self.out is None:
            return
        self.process.send_signal(2)  # SIGINT: py-spy writes its file and exits
        self.process.wait(timeout=30)
        print(summary(self.out), flush=True)
        self.process = None
