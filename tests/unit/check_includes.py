#!/usr/bin/env python3
"""Fails on any wrong-way or cyclic #include in vigil's C sources.

The layers and who may include whom: cmake/layers.txt (the build gives each layer
an include view from the same file). Files outside every layer (tests/ but
tests/guests, the bare-metal test guests) may include anything and are not checked.

A cycle is reported between modules, where a module is a file name without its
extension (x.c, x.h and x_internal.h, the module's private declarations, are one
module): module A depends on B when a file of A includes a header of B.

Usage: check_includes.py [ROOT]     check the tree at ROOT (default: this checkout)
       check_includes.py --self-test build small trees and check that a bad one is refused
"""

import os
import re
import sys
import tempfile

SOURCE_SUFFIXES = (".c", ".h", ".S")
SKIPPED_DIRECTORIES = {"build", ".git"}
# Headers the build generates (not in the tree): the layer they belong to.
GENERATED = {"arch/x86_64/asm_offsets.h": "arch"}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
LAYER_LINE = re.compile(r"^([a-z-]+):([^|]*)\|(.*)$")


def read_layers(root):
    """{layer: (directories, layers it may include, itself included)} from cmake/layers.txt."""
    layers = {}
    with open(os.path.join(root, "cmake", "layers.txt")) as table:
        for line in table:
            match = LAYER_LINE.match(line)
            if match:
                layer = match.group(1)
                layers[layer] = (match.group(2).split(), set(match.group(3).split()) | {layer})
    if not layers:
        raise SystemExit("check_includes: no layers in %s/cmake/layers.txt" % root)
    return layers


def layer_of(layers, path):
    """The layer whose directory is the longest prefix of path, or None."""
    best, best_length = None, -1
    for layer, (directories, _) in layers.items():
        for directory in directories:
            if path.startswith(directory + "/") and len(directory) > best_length:
                best, best_length = layer, len(directory)
    return best


def source_files(root):
    for directory, subdirectories, files in os.walk(root):
        relative_directory = os.path.relpath(directory, root)
        subdirectories[:] = sorted(d for d in subdirectories
                                   if not (relative_directory == "." and d in SKIPPED_DIRECTORIES))
        for name in sorted(files):
            if name.endswith(SOURCE_SUFFIXES):
                path = os.path.normpath(os.path.join(relative_directory, name))
                yield path


def resolve(root, including, bracket, name):
    """The repository path an include names, or None for a system header."""
    public = os.path.join("guest-svc/include", name)
    if bracket == "<":
        return public if os.path.isfile(os.path.join(root, public)) else None
    relative = os.path.normpath(os.path.join(os.path.dirname(including), name))
    if os.path.isfile(os.path.join(root, relative)):
        return relative
    if os.path.isfile(os.path.join(root, name)) or name in GENERATED:
        return os.path.normpath(name)
    if os.path.isfile(os.path.join(root, public)):
        return public
    return ""  # quoted but nowhere: an error


def module_of(path):
    """x.c, x.h and x_internal.h (the module's private declarations) are one module."""
    stem = os.path.splitext(path)[0]
    return stem[: -len("_internal")] if stem.endswith("_internal") else stem


def find_cycles(edges):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, on_stack, stack, components = {}, {}, set(), [], []
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    sys.setrecursionlimit(10000)
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return components


def check(root):
    layers = read_layers(root)
    problems = []
    edges = {}
    for path in source_files(root):
        layer = layer_of(layers, path)
        if layer is None:
            continue
        with open(os.path.join(root, path), encoding="utf-8", errors="replace") as source:
            for number, line in enumerate(source, 1):
                match = INCLUDE.match(line)
                if not match:
                    continue
                target = resolve(root, path, match.group(1), match.group(2))
                if target is None:
                    continue
                where = "%s:%d: #include %s%s%s" % (path, number, match.group(1), match.group(2),
                                                   '"' if match.group(1) == '"' else ">")
                if target == "":
                    problems.append("%s: no such file in the tree" % where)
                    continue
                target_layer = GENERATED.get(target) or layer_of(layers, target)
                if target_layer is None or target_layer not in layers[layer][1]:
                    problems.append("%s: wrong way: %s may not include %s" % (where, layer, target_layer or target))
                if module_of(target) != module_of(path):
                    edges.setdefault(module_of(path), set()).add(module_of(target))
    for component in find_cycles(edges):
        ties = ["%s -> %s" % (a, b) for a in component for b in sorted(edges.get(a, ())) if b in component]
        problems.append("include cycle among %s: %s" % (", ".join(component), "; ".join(ties)))
    return problems


def self_test():
    """The checker must refuse a wrong-way include and a cycle, and accept a clean tree."""
    files = {
        "cmake/layers.txt": "abi: guest-svc/include |\nlib: lib | abi\narch: arch | abi lib\nhv: hv | abi lib arch\n",
        "lib/ring.h": "#include <stdint.h>\n",
        "arch/x86_64/cpu.h": '#include "lib/ring.h"\n#include <vigil/abi.h>\n',
        "guest-svc/include/vigil/abi.h": "\n",
        "hv/a.c": '#include "hv/a.h"\n#include "arch/x86_64/cpu.h"\n',
        "hv/a.h": "\n",
    }
    failures = []
    with tempfile.TemporaryDirectory() as root:
        def write(path, text):
            os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
            with open(os.path.join(root, path), "w") as out:
                out.write(text)

        for path, text in files.items():
            write(path, text)
        if check(root):
            failures.append("a clean tree was refused: %s" % check(root))
        write("arch/x86_64/vmx.c", '#include "hv/a.h"\n')
        if not any("wrong way: arch may not include hv" in p for p in check(root)):
            failures.append("arch including hv was not refused")
        os.remove(os.path.join(root, "arch/x86_64/vmx.c"))
        write("hv/b.c", '#include "hv/a.h"\n')
        write("hv/b.h", "\n")
        write("hv/a.h", '#include "hv/b.h"\n')
        if not any(p.startswith("include cycle among hv/a, hv/b") for p in check(root)):
            failures.append("the cycle hv/a <-> hv/b was not refused: %s" % check(root))
        write("hv/a.h", '#include "hv/missing.h"\n')
        if not any("no such file" in p for p in check(root)):
            failures.append("an include of a missing file was not refused")
    for failure in failures:
        print("check_includes self-test: %s" % failure)
    return 1 if failures else 0


def main(arguments):
    if arguments == ["--self-test"]:
        return self_test()
    root = arguments[0] if arguments else os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    problems = check(root)
    for problem in problems:
        print(problem)
    print("check_includes: %d problem%s in %s" % (len(problems), "" if len(problems) == 1 else "s", root))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
