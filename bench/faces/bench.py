"""``make bench-faces`` (``python -m bench.faces``): face verifications per second (one process,
and one per core) and the accuracy over every pair of photos in ../shared/data/faces/ (issue 4,
"What it must show").

A verification is what the face worker does per check-in: decode the selfie, detect, measure,
take landmarks and the descriptor, compare with the stored template.
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import os
import time
from pathlib import Path

import numpy as np

from services.identity.domain.face_match import MATCH_THRESHOLD, is_same_person
from services.identity.domain.face_quality import photo_refusal
from services.identity.faces import engine

DEFAULT_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "faces"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}


def photos(folder: Path) -> list[tuple[str, Path]]:
    """(person, file) for every single-person photo; ``multi/`` holds group photos, ``other/``
    one photo per person named by the file."""
    found = []
    for path in sorted(folder.glob("*/*")):
        if path.suffix.lower() not in IMAGE_SUFFIXES or path.parent.name == "multi":
            continue
        person = path.stem if path.parent.name == "other" else path.parent.name
        found.append((person, path))
    return found


def verify_once(data: bytes, template: np.ndarray) -> bool:
    analysis = engine.analyse(engine.decode(data))
    if analysis.descriptor is None or photo_refusal(analysis.measurements) is not None:
        return False
    return is_same_person(engine.distance(analysis.descriptor, template))


def _worker(args: tuple[list[bytes], np.ndarray, float]) -> int:
    blobs, template, seconds = args
    engine.load_models()
    done = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        verify_once(blobs[done % len(blobs)], template)
        done += 1
    return done


def throughput(blobs: list[bytes], template: np.ndarray, processes: int, seconds: float) -> float:
    if processes == 1:
        return _worker((blobs, template, seconds)) / seconds
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        pool.map(_worker, [(blobs[:1], template, 0.01)] * processes)  # load the models first
        counts = pool.map(_worker, [(blobs, template, seconds)] * processes)
    return sum(counts) / seconds


def accuracy(found: list[tuple[str, Path]]) -> None:
    descriptors: list[tuple[str, str, np.ndarray]] = []
    for person, path in found:
        analysis = engine.analyse(engine.decode(path.read_bytes()))
        refusal = photo_refusal(analysis.measurements)
        if analysis.descriptor is None or refusal is not None:
            print(f"  refused at capture: {path.parent.name}/{path.name}: {refusal}")
            continue
        descriptors.append((person, path.name, analysis.descriptor))
    false_accepts = false_rejects = same_pairs = other_pairs = 0
    worst_same, best_other = 0.0, 9.0
    for (p1, f1, d1), (p2, f2, d2) in itertools.combinations(descriptors, 2):
        dist = engine.distance(d1, d2)
        accepted = is_same_person(dist)
        if p1 == p2:
            same_pairs += 1
            worst_same = max(worst_same, dist)
            if not accepted:
                false_rejects += 1
                print(f"  false reject: {f1} ~ {f2}: {dist:.3f}")
        else:
            other_pairs += 1
            best_other = min(best_other, dist)
            if accepted:
                false_accepts += 1
                print(f"  false accept: {f1} ~ {f2}: {dist:.3f}")
    print(
        f"accuracy over {same_pairs + other_pairs} pairs of {len(descriptors)} photos "
        f"(threshold {MATCH_THRESHOLD}): false accepts {false_accepts}/{other_pairs}, "
        f"false rejects {false_rejects}/{same_pairs}; largest same-person distance {worst_same:.3f}, "
        f"smallest different-person distance {best_other:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--faces", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    found = photos(args.faces)
    print(f"{len(found)} single-person photos under {args.faces}")
    accuracy(found)
    # Throughput on the photos as they come (the engine scales each to ≤640 px on the long side).
    blobs = [path.read_bytes() for _, path in found]
    template = engine.analyse(engine.decode(blobs[0])).descriptor
    assert template is not None
    one = throughput(blobs, template, 1, args.seconds)
    print(f"1 process: {one:.1f} verifications/s")
    if args.processes > 1:
        many = throughput(blobs, template, args.processes, args.seconds)
        print(
            f"{args.processes} processes: {many:.1f} verifications/s, {many / args.processes:.1f}/s per core"
        )
