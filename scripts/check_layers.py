#!/usr/bin/env python3
"""Check that hgc's source layers only depend downwards.

hgc's sources live in src/, one folder per layer (LAYERS below, lowest
first).  A layer may use itself and any layer below it, never one above.
Two things are checked:

  * includes: every `#include "layer/file.h"` in src/<layer>/*.c and *.h
    must name a layer at or below the including file's layer, and every
    quoted include must name a file that exists under src/ or include/.
    Includes without a folder ("hgc.h", "gc.h": the public headers in
    include/) are allowed anywhere.
  * symbols: `nm` on the built object files gives, for each global symbol,
    the layer that defines it, and for each object the symbols it uses.  A
    use of a symbol defined in a higher layer is an upward call.  This
    needs a build: the objects are read from
    <build>/CMakeFiles/hgc_obj.dir/src/<layer>/*.c.o and
    <build>/CMakeFiles/hgc_gc.dir/src/compat/*.c.o.

Known, tolerated upward edges go in ALLOWED, each with its reason; every
exception that is used is printed.

Run from anywhere:

    scripts/check_layers.py [--build DIR] [--svg docs/layers.svg] [--check-svg docs/layers.svg]
                            [--src DIR]

--svg writes a picture of the layers and of the dependency edges found in
the code (deterministic, so it can be committed); --check-svg fails when
that file is not what --svg would write now.

Exit status: 0 no upward edge, 1 upward edges (or a stale picture, or a
layer folder missing from LAYERS), 2 the build objects are missing.
"""

import argparse
import subprocess
import sys
import textwrap
import time
from collections import defaultdict
from pathlib import Path
from xml.sax.saxutils import escape

# The layers, lowest first.  Every folder of src/ must be listed here.
LAYERS = [
    ("os", "system calls: pages, futexes, signals, stacks, write tracking"),
    ("base", "errors, metadata memory, options, trace output, containers, assertions"),
    ("heap", "arenas, spans, page map, size classes, layouts"),
    ("mutator", "thread registry, world lock, stop-the-world, safe points, "
                "blocking regions, fork, collector phase"),
    ("alloc", "thread caches, central lists, sweeping, explicit free"),
    ("roots", "root enumeration: stacks, registers, data segments, user ranges"),
    ("mark", "scanning, work distribution, generations, verifier"),
    ("cycle", "the collection cycle, pacing, finalizers, weak links"),
    ("api", "the public hgc_ interface"),
    ("compat", "the Boehm GC interface, libgc.so.1"),
]

# Tolerated upward edges: (from_layer, to_layer, what, reason).  `what` is a
# symbol name for the symbol check, an include path ("cycle/collector.h")
# for the include check, or None for any edge between the two layers.
# Keep this list short: each entry is a debt with its reason next to it.
ALLOWED = [
]

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
INCLUDE = ROOT / "include"

# The object directories CMake writes, relative to the build directory.
OBJECT_DIRS = ["CMakeFiles/hgc_obj.dir/src", "CMakeFiles/hgc_gc.dir/src"]


# ---------------------------------------------------------------- layers

def layer_rank():
    """Layer name -> position, 0 for the lowest."""
    return {name: i for i, (name, _) in enumerate(LAYERS)}


def check_layer_folders():
    """Messages for folders of src/ missing from LAYERS, and the reverse."""
    on_disk = {p.name for p in SRC.iterdir() if p.is_dir()}
    listed = set(layer_rank())
    problems = []
    for name in sorted(on_disk - listed):
        problems.append(f"src/{name}/ is not in LAYERS in {Path(__file__).name}: "
                        "add it at its place in the order")
    for name in sorted(listed - on_disk):
        problems.append(f"layer '{name}' is in LAYERS but src/{name}/ does not exist")
    return problems


def layer_of(rel):
    """'alloc/alloc.c' -> 'alloc'."""
    return rel.split("/", 1)[0]


def is_upward(from_layer, to_layer):
    rank = layer_rank()
    return rank[to_layer] > rank[from_layer]


def find_exception(from_layer, to_layer, what):
    """The ALLOWED entry covering this edge, or None."""
    for entry in ALLOWED:
        e_from, e_to, e_what, _reason = entry
        if e_from == from_layer and e_to == to_layer and e_what in (None, what):
            return entry
    return None


# ---------------------------------------------------------------- includes

def source_files(layer, suffixes=(".c", ".h")):
    """The sources of one layer, as paths relative to src/, sorted."""
    folder = SRC / layer
    return sorted(f"{layer}/{p.name}" for p in folder.iterdir()
                  if p.is_file() and p.suffix in suffixes)


def quoted_includes(path):
    """The "..." includes of a file, in order.  <...> includes are system
    headers and are not ours to check."""
    found = []
    for line in path.read_text(errors="replace").splitlines():
        text = line.strip()
        if not text.startswith("#"):
            continue
        words = text[1:].strip()
        if not words.startswith("include"):
            continue
        rest = words[len("include"):].strip()
        if rest.startswith('"') and rest.count('"') >= 2:
            found.append(rest[1:rest.index('"', 1)])
    return found


def include_exists(name, including):
    """Whether a quoted include resolves the way the build resolves it: next
    to the including file, or under src/ or include/ (the -I paths)."""
    for base in (including.parent, SRC, INCLUDE):
        if (base / name).is_file():
            return True
    return False


def collect_includes():
    """(from_file, included_name, exists) for every quoted include."""
    result = []
    for layer, _ in LAYERS:
        for rel in source_files(layer):
            path = SRC / rel
            for name in quoted_includes(path):
                result.append((rel, name, include_exists(name, path)))
    return result


def include_target_layer(name):
    """The layer an include names ("alloc/alloc.h" -> "alloc"), or None for
    a public header or a folder that is not a layer (e.g. "gc/gc.h")."""
    if "/" not in name:
        return None
    folder = name.split("/", 1)[0]
    return folder if folder in layer_rank() else None


# ---------------------------------------------------------------- objects

def find_objects(build):
    """'layer/file.c' -> object path, for the objects that exist.  Objects
    elsewhere (e.g. left over from before the sources moved into layer
    folders) are ignored."""
    objects = {}
    for sub in OBJECT_DIRS:
        base = build / sub
        for obj in sorted(base.glob("*/*.c.o")):
            rel = f"{obj.parent.name}/{obj.name[:-len('.o')]}"
            if layer_of(rel) in layer_rank():
                objects.setdefault(rel, obj)
    return objects


def object_dirs_missing(build):
    return [build / sub for sub in OBJECT_DIRS if not (build / sub).is_dir()]


def report_object_drift(objects):
    """Warn (stderr) about objects without a source, sources without an
    object and objects older than their source: the symbol check then
    reads a build that is not the tree."""
    notes = []
    for rel, obj in sorted(objects.items()):
        src = SRC / rel
        if not src.is_file():
            notes.append(f"note: {obj} has no source {rel} any more; ignored")
        elif src.stat().st_mtime > obj.stat().st_mtime:
            notes.append(f"note: {rel} is newer than its object; rebuild for an exact symbol check")
    for layer, _ in LAYERS:
        for rel in source_files(layer, (".c",)):
            if rel not in objects:
                notes.append(f"note: {rel} has no object in the build; its symbols are not checked")
    for note in notes:
        print(note, file=sys.stderr)


def run_nm(options, obj):
    """Lines of `nm <options> obj`.  The objects may be rebuilt while we
    read them (another build running), so a failure is retried once."""
    for attempt in range(2):
        proc = subprocess.run(["nm", *options, str(obj)], capture_output=True, text=True)
        if proc.returncode == 0:
            return proc.stdout.splitlines()
        if attempt == 0:
            time.sleep(1)
    sys.exit(f"check_layers: nm failed on {obj}: {proc.stderr.strip()}")


def defined_symbols(obj):
    """Global symbols an object defines.  U (and weak undefined w/v) lines
    are references, not definitions."""
    names = []
    for line in run_nm(["-g", "--defined-only"], obj):
        parts = line.split()
        if len(parts) == 3 and parts[1] not in ("U", "w", "v"):
            names.append(parts[2])
    return names


def undefined_symbols(obj):
    """Symbols an object uses but does not define (thread-local ones too)."""
    return [line.split()[-1] for line in run_nm(["-u"], obj) if line.strip()]


def symbol_definitions(objects):
    """symbol -> 'layer/file.c' of its definition."""
    defs = {}
    for rel in sorted(objects):
        for name in defined_symbols(objects[rel]):
            if name in defs and defs[name] != rel:
                print(f"note: {name} defined in both {defs[name]} and {rel}", file=sys.stderr)
                continue
            defs[name] = rel
    return defs


def symbol_references(objects, defs):
    """(from_file, symbol, defining_file) for each use of a symbol defined
    in another layer.  Symbols from libc and friends are not in defs."""
    refs = set()
    for rel in sorted(objects):
        for name in undefined_symbols(objects[rel]):
            where = defs.get(name)
            if where and layer_of(where) != layer_of(rel):
                refs.add((rel, name, where))
    return sorted(refs)


# ---------------------------------------------------------------- checking

class Findings:
    """What the two checks found, and the per-layer-pair edges for the
    picture."""

    def __init__(self):
        self.errors = set()            # lines to print, one per bad edge
        self.broken_includes = set()
        self.used_exceptions = set()
        self.includes_checked = 0
        self.refs_checked = 0
        # (from_layer, to_layer) -> {"symbols": set, "headers": set,
        #   "bad": an upward edge not in ALLOWED, "allowed": one that is}
        self.pairs = {}

    def pair(self, from_layer, to_layer):
        key = (from_layer, to_layer)
        if key not in self.pairs:
            self.pairs[key] = {"symbols": set(), "headers": set(),
                               "bad": False, "allowed": False}
        return self.pairs[key]

    def judge(self, from_layer, to_layer, what, message):
        """Record an edge; an upward one is an error unless ALLOWED."""
        entry = self.pair(from_layer, to_layer)
        if not is_upward(from_layer, to_layer):
            return
        exception = find_exception(from_layer, to_layer, what)
        if exception:
            self.used_exceptions.add(exception)
            entry["allowed"] = True
        else:
            self.errors.add(message)
            entry["bad"] = True


def check_includes(findings):
    for rel, name, exists in collect_includes():
        findings.includes_checked += 1
        if not exists:
            findings.broken_includes.add(f'missing include: {rel} -> "{name}" '
                                         "(not under src/ or include/)")
            continue
        target = include_target_layer(name)
        from_layer = layer_of(rel)
        if target is None or target == from_layer:
            continue
        findings.pair(from_layer, target)["headers"].add(name)
        findings.judge(from_layer, target, name, f"upward include: {rel} -> {name}")


def check_symbols(findings, objects):
    defs = symbol_definitions(objects)
    for rel, name, where in symbol_references(objects, defs):
        findings.refs_checked += 1
        from_layer, to_layer = layer_of(rel), layer_of(where)
        findings.pair(from_layer, to_layer)["symbols"].add(name)
        findings.judge(from_layer, to_layer, name,
                       f"upward call: {rel} -> {name} (defined in {where})")


# ---------------------------------------------------------------- picture

WIDTH = 900
BAND_X = 10
BAND_W = WIDTH - 2 * BAND_X
TEXT_X = 22
TEXT_W = 430           # the text column; the arrows use the rest
LANES_X0 = 470
LANES_X1 = WIDTH - 30  # room for the last label
TOP = 62
BAND_GAP = 8
FILLS = ["#eef3fb", "#eefaf0", "#fdf6e6", "#f6effb", "#e9f7f7",
         "#fbeeee", "#f2f2e6", "#eef0fb", "#f7f3ee", "#eaf5fb"]
COLOURS = {"ok": "#4a5568", "bad": "#d00000", "allowed": "#dd7700"}


def fmt(value):
    """Coordinates with at most one decimal, so the text never depends on
    float noise."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def wrap(text, font_size, width):
    """Wrap for a sans-serif font; 0.55 em is a fair average glyph width."""
    return textwrap.wrap(text, max(10, int(width / (font_size * 0.55))))


def band_text(layer, description):
    """(name, description lines, file lines) for one band."""
    files = ", ".join(p.split("/", 1)[1] for p in source_files(layer, (".c",)))
    return (layer, wrap(description, 11, TEXT_W),
            wrap("files: " + (files or "(none)"), 10, TEXT_W))


def band_layout():
    """layer -> (top, height, text), highest layer first (on top)."""
    layout = {}
    y = TOP
    for layer, description in reversed(LAYERS):
        text = band_text(layer, description)
        height = max(66, 30 + 14 * len(text[1]) + 13 * len(text[2]) + 6)
        layout[layer] = (y, height, text)
        y += height + BAND_GAP
    return layout, y


def edge_ends(layout, from_layer, to_layer):
    """(start_y, tip_y): a downward arrow leaves near the bottom of its band
    and arrives near the top of the lower one, an upward one the reverse."""
    f_top, f_h, _ = layout[from_layer]
    t_top, t_h, _ = layout[to_layer]
    if is_upward(from_layer, to_layer):
        return f_top + 10, t_top + t_h - 14
    return f_top + f_h - 10, t_top + 16


def assign_lanes(edges, layout):
    """Give each edge a vertical lane; edges whose spans do not overlap may
    share one (interval partitioning), so the picture stays narrow."""
    spans = []
    for key in edges:
        start, tip = edge_ends(layout, *key)
        spans.append((min(start, tip) - 6, max(start, tip) + 6, key))
    spans.sort()
    lane_ends = []
    lanes = {}
    for low, high, key in spans:
        for i, end in enumerate(lane_ends):
            if end < low:
                lane_ends[i] = high
                lanes[key] = i
                break
        else:
            lanes[key] = len(lane_ends)
            lane_ends.append(high)
    return lanes, len(lane_ends)


def edge_label(entry):
    """Number of distinct symbols; 'h' when the layers only share headers
    (types, macros, inline functions)."""
    return str(len(entry["symbols"])) if entry["symbols"] else "h"


def edge_title(from_layer, to_layer, entry):
    parts = [f"{from_layer} -> {to_layer}"]
    if entry["symbols"]:
        parts.append(f"{len(entry['symbols'])} symbols: " + ", ".join(sorted(entry["symbols"])))
    if entry["headers"]:
        parts.append("includes: " + ", ".join(sorted(entry["headers"])))
    return "; ".join(parts)


def svg_band(layer, index, top, height, text):
    name, desc_lines, file_lines = text
    out = [f'<rect x="{BAND_X}" y="{fmt(top)}" width="{BAND_W}" height="{fmt(height)}" '
           f'rx="6" fill="{FILLS[index % len(FILLS)]}" stroke="#9aa3b0"/>',
           f'<text x="{TEXT_X}" y="{fmt(top + 20)}" font-size="15" font-weight="bold" '
           f'fill="#1a202c">{escape(name)}</text>']
    y = top + 20
    for line in desc_lines:
        y += 14
        out.append(f'<text x="{TEXT_X}" y="{fmt(y)}" font-size="11" fill="#2d3748">'
                   f'{escape(line)}</text>')
    y += 2
    for line in file_lines:
        y += 13
        out.append(f'<text x="{TEXT_X}" y="{fmt(y)}" font-size="10" fill="#5a6473">'
                   f'{escape(line)}</text>')
    return out


def svg_edge(x, start, tip, colour, dashed, label, title):
    """A line with a dot at its start and an arrowhead at its tip."""
    step = 8 if tip > start else -8
    dash = ' stroke-dasharray="4 3"' if dashed else ""
    return [
        "<g>",
        f"<title>{escape(title)}</title>",
        f'<circle cx="{fmt(x)}" cy="{fmt(start)}" r="2.5" fill="{colour}"/>',
        f'<line x1="{fmt(x)}" y1="{fmt(start)}" x2="{fmt(x)}" y2="{fmt(tip - step)}" '
        f'stroke="{colour}" stroke-width="1.5"{dash}/>',
        f'<polygon points="{fmt(x)},{fmt(tip)} {fmt(x - 4)},{fmt(tip - step)} '
        f'{fmt(x + 4)},{fmt(tip - step)}" fill="{colour}"/>',
        f'<text x="{fmt(x + 4)}" y="{fmt(tip + (-2 if step > 0 else 9))}" font-size="10" '
        f'fill="{colour}">{escape(label)}</text>',
        "</g>",
    ]


def render_svg(findings):
    layout, bottom = band_layout()
    edges = sorted(findings.pairs)
    lanes, lane_count = assign_lanes(edges, layout)
    spacing = min(34.0, (LANES_X1 - LANES_X0) / max(1, lane_count))
    height = bottom + 6
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{fmt(height)}" '
        f'viewBox="0 0 {WIDTH} {fmt(height)}" font-family="sans-serif">',
        "<!-- generated by scripts/check_layers.py, do not edit by hand -->",
        f'<rect x="0" y="0" width="{WIDTH}" height="{fmt(height)}" fill="#ffffff"/>',
        f'<text x="{BAND_X}" y="24" font-size="17" font-weight="bold" fill="#1a202c">'
        "hgc layers (src/), highest on top</text>",
        f'<text x="{BAND_X}" y="44" font-size="11" fill="#2d3748">'
        "Arrows: a layer uses a lower one (includes and symbols, from the code). "
        "Number: distinct symbols used; h: headers only.</text>",
        f'<text x="{BAND_X}" y="57" font-size="11" fill="#2d3748">'
        "Red: upward edge (forbidden); orange dashed: upward edge allowed by an exception.</text>",
    ]
    for index, (layer, _) in enumerate(LAYERS):
        top, band_h, text = layout[layer]
        out += svg_band(layer, index, top, band_h, text)
    for key in edges:
        entry = findings.pairs[key]
        state = "bad" if entry["bad"] else "allowed" if entry["allowed"] else "ok"
        start, tip = edge_ends(layout, *key)
        x = LANES_X0 + spacing * (lanes[key] + 0.5)
        out += svg_edge(x, start, tip, COLOURS[state], state == "allowed",
                        edge_label(entry), edge_title(*key, entry))
    out.append("</svg>")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- main

def parse_args():
    parser = argparse.ArgumentParser(description="Check that hgc's layers only depend downwards.")
    parser.add_argument("--build", default="build",
                        help="CMake build directory holding the objects (default: build)")
    parser.add_argument("--svg", metavar="PATH", help="write the layer picture to PATH")
    parser.add_argument("--check-svg", metavar="PATH",
                        help="fail when the picture at PATH is out of date")
    parser.add_argument("--src", metavar="DIR",
                        help="the source tree to check instead of src/ (tests/check_layers_test.sh)")
    return parser.parse_args()


def resolve_build(arg):
    """A relative --build is taken from the current directory first, then
    from the repository root, so the script runs from anywhere."""
    path = Path(arg)
    if path.is_absolute() or path.is_dir():
        return path
    return ROOT / path


def picture_is_current(path, svg):
    try:
        return Path(path).read_text() == svg
    except OSError:
        return False


def print_exceptions(findings):
    for from_layer, to_layer, what, reason in sorted(findings.used_exceptions,
                                                     key=lambda e: (e[0], e[1], e[2] or "")):
        print(f"allowed: {from_layer} -> {to_layer} ({what or 'any'}): {reason}")


def main():
    global SRC
    args = parse_args()
    if args.src:
        SRC = Path(args.src).resolve()
    problems = check_layer_folders()
    if problems:
        for line in problems:
            print(f"layers: {line}")
        return 1

    build = resolve_build(args.build)
    missing = object_dirs_missing(build)
    if missing:
        for path in missing:
            print(f"layers: no object directory {path}")
        print(f"layers: build first (cmake -S . -B {args.build} && cmake --build {args.build})")
        return 2
    objects = find_objects(build)
    report_object_drift(objects)
    objects = {rel: obj for rel, obj in objects.items() if (SRC / rel).is_file()}

    findings = Findings()
    check_includes(findings)
    check_symbols(findings, objects)
    print_exceptions(findings)

    svg = render_svg(findings)
    # Compare before writing, so --svg and --check-svg on one path still
    # tell whether the committed file was stale.
    stale = args.check_svg and not picture_is_current(args.check_svg, svg)
    if args.svg:
        Path(args.svg).write_text(svg)

    failures = sorted(findings.errors) + sorted(findings.broken_includes)
    for line in failures:
        print(line)
    if stale:
        print(f"layer picture out of date: run scripts/check_layers.py --svg {args.check_svg}")
    if failures:
        summary = f"layers: {len(findings.errors)} upward edges"
        if findings.broken_includes:
            summary += f", {len(findings.broken_includes)} missing includes"
        print(summary)
        return 1
    if stale:
        return 1
    print(f"layers: {len(LAYERS)} layers, {findings.includes_checked} includes, "
          f"{findings.refs_checked} cross-layer references checked, no upward edge")
    return 0


if __name__ == "__main__":
    sys.exit(main())
