#!/usr/bin/env python3
"""The folders of src/ keep their boundaries (docs/architecture.md).

Reads the libraries CMake declared (build/layering.txt: "NAME FOLDER: DEP ..."), then fails when
  - a file includes a header of a folder its library does not declare as a dependency,
  - the declared dependencies form a cycle,
  - a C client header (libpq, hiredis, rabbitmq-c) is included outside src/storage/.
Usage: layering_test.py SRC_DIR LAYERING_TXT
"""
import os
import re
import sys

C_CLIENT_HEADERS = re.compile(r'#include\s*<(libpq-fe\.h|hiredis/[^>]*|amqp[^>]*\.h|rabbitmq-c/[^>]*)>')
LOCAL_INCLUDE = re.compile(r'#include\s*"([^"]+)"')


def main(src, layering_path):
    libraries = {}  # name -> (folder, deps)
    with open(layering_path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            head, _, deps = line.partition(':')
            name, folder = head.split()
            libraries[name] = (folder, deps.split())
    by_folder = sorted(((folder, name) for name, (folder, _) in libraries.items()), key=lambda e: -len(e[0]))

    def library_of(path):  # path relative to src/
        for folder, name in by_folder:
            if folder == '.' or path.startswith(folder + '/'):
                return name
        return None

    problems = []
    for root, _, files in os.walk(src):
        for file in sorted(files):
            if not file.endswith(('.cpp', '.hpp')):
                continue
            path = os.path.relpath(os.path.join(root, file), src)
            own = library_of(path)
            if own is None:
                problems.append(f'{path}: in no library (src/CMakeLists.txt)')
                continue
            allowed = {own, *libraries[own][1]}
            with open(os.path.join(root, file)) as f:
                for number, text in enumerate(f, 1):
                    m = LOCAL_INCLUDE.match(text)
                    if m and os.path.exists(os.path.join(src, m.group(1))):
                        target = library_of(m.group(1))
                        if target not in allowed:
                            problems.append(f'src/{path}:{number}: includes {m.group(1)} of {target}, '
                                            f'which {own} does not depend on')
                    if C_CLIENT_HEADERS.match(text) and not path.startswith('storage/'):
                        problems.append(f'src/{path}:{number}: C client header outside src/storage/: {text.strip()}')

    # The declared arrows must not form a cycle.
    state = {}

    def visit(name, trail):
        if state.get(name) == 'done':
            return
        if state.get(name) == 'open':
            problems.append('dependency cycle: ' + ' -> '.join(trail[trail.index(name):] + [name]))
            return
        state[name] = 'open'
        for dep in libraries.get(name, ('', []))[1]:
            visit(dep, trail + [name])
        state[name] = 'done'

    for name in sorted(libraries):
        visit(name, [])

    for p in problems:
        print(p)
    if problems:
        print(f'layering: FAILED, {len(problems)} problem(s)')
        return 1
    print(f'layering: {len(libraries)} libraries, no cycle, every include declared')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1], sys.argv[2]))
