"""The include-direction check: no file of a layer includes a header of a layer above it.

    python3 check_includes.py SOURCE_DIR LAYER:DEP,DEP ...    (ctest passes CMake's graph)
    python3 check_includes.py --self-test

Each argument after SOURCE_DIR is one layer and the layers it links, as graft_add_layer()
(cmake/GraftLayers.cmake) recorded them; a layer may include its own headers and those of
every layer it reaches through that graph, nothing else. A layer is its folder with every
folder under it (kernels/cpu/ and kernels/cuda/ are kernels/). Its files (.h .cpp .cu .cuh)
name graft's headers as "graft/<layer>/..." ; a quoted include of any other form, or of the
umbrella graft/graft.h, is reported too, since it would hide which layer it reaches.

Every offence is printed as FILE:LINE: message, and the exit status is 1 when there is one.
Standard library only.
"""

import pathlib
import re
import sys
import tempfile

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
SUFFIXES = {".h", ".cpp", ".cu", ".cuh"}


def parse_graph(args):
    """{layer: [layers it links]} from "layer:dep,dep" arguments."""
    graph = {}
    for arg in args:
        layer, _, deps = arg.partition(":")
        graph[layer] = [d for d in deps.split(",") if d]
    return graph


def reachable(graph):
    """{layer: the layers it may include}: itself and everything below it in the graph."""
    allowed = {}
    for layer in graph:
        seen, todo = set(), [layer]
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo.extend(graph.get(current, []))
        allowed[layer] = seen
    return allowed


def offences(source_dir, graph):
    """(file, line, message) for every include that points up or hides its layer."""
    allowed = reachable(graph)
    found = []
    for layer in sorted(graph):
        may = ", ".join(sorted(allowed[layer]))
        for path in sorted((source_dir / layer).rglob("*")):
            if path.suffix not in SUFFIXES or not path.is_file():
                continue
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            for number, text in enumerate(lines, 1):
                match = INCLUDE.match(text)
                if not match:
                    continue
                quote, header = match.groups()
                parts = header.split("/")
                where = (path.relative_to(source_dir), number)
                if parts[0] != "graft":
                    if quote == '"':
                        found.append((*where, f'{layer}/ includes "{header}": name graft\'s '
                                      f'headers by their layer, "graft/<layer>/..."'))
                    continue
                target = parts[1] if len(parts) > 2 else None
                if target is None:
                    found.append((*where, f"{layer}/ includes the umbrella {header}, which "
                                  f"reaches every layer; include the headers it needs "
                                  f"(allowed: {may})"))
                elif target not in graph:
                    found.append((*where, f"{layer}/ includes {header}, which is in no layer "
                                  f"(layers: {', '.join(sorted(graph))})"))
                elif target not in allowed[layer]:
                    found.append((*where, f"{layer}/ includes {header}, a header of {target}/, "
                                  f"which is not below {layer}/ (it may include: {may})"))
    return found


def self_test():
    """The check finds an upward include, a sideways one and a hidden one, and passes a
    clean tree: a check that passed everything would prove nothing."""
    graph = parse_graph(["core:", "kernels:core", "nn:kernels", "data:kernels"])
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp)

        def write(name, text):
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text)

        write("core/tensor.h", '#include <vector>\n#include "graft/core/shape.h"\n')
        write("kernels/cpu/add.cpp",
              '#include "graft/kernels/dispatch.h"\n#include "graft/core/tensor.h"\n')
        write("nn/module.h", '#include "graft/kernels/dispatch.h"\n')
        assert offences(root, graph) == [], offences(root, graph)
        write("core/tensor.cpp", '#include "graft/kernels/dispatch.h"\n')
        write("kernels/cpu/sub.cu", '\n#include "graft/nn/module.h"\n')
        write("data/loader.cpp", '#include "graft/nn/module.h"\n')
        write("nn/linear.cpp", '# include "module.h"\n#include "graft/graft.h"\n')
        got = [(str(f), line) for f, line, _ in offences(root, graph)]
        want = [("core/tensor.cpp", 1), ("data/loader.cpp", 1), ("kernels/cpu/sub.cu", 2),
                ("nn/linear.cpp", 1), ("nn/linear.cpp", 2)]
        assert got == want, got
    print("check_includes: self-test passed")


def main(argv):
    if argv == ["--self-test"]:
        self_test()
        return 0
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    source_dir, graph = pathlib.Path(argv[0]), parse_graph(argv[1:])
    found = offences(source_dir, graph)
    for path, line, message in found:
        print(f"{path}:{line}: {message}")
    if found:
        print(f"check_includes: {len(found)} include(s) point up or sideways; the layer "
              f"graph is in CMakeLists.txt (graft_add_layer)")
        return 1
    print(f"check_includes: {', '.join(sorted(graph))}: every include points down")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
