#!/usr/bin/env python3
"""Extracts the commands of README.md, in order, for scripts/readme-test.sh.

    python3 scripts/readme-commands.py README.md              # list them, with line and mode
    python3 scripts/readme-commands.py --emit-bash README.md  # the steps readme-test.sh runs

What counts as a command (the convention; scripts/README.md repeats it):

- Every fenced block opened with ```sh (or ```bash, ```shell) is run, command by command, in
  the order of the file. Other fences (```json, ```text, plain ```) are never run. Lines that
  are blank or start with `#` are skipped; a command continues over lines that end with `\\`,
  `|`, `&&` or `||`, or while a quote is open.
- In a table row (a line starting with `|`), every inline code span that starts with `curl `
  is a command too, in order (the route table's examples).
- A line `<!-- readme-test: MODE -->` (free text may follow MODE) just before a block or a
  table sets how it runs:
    run    (the default) every command must succeed;
    fails  every command must fail (a refusal the README shows on purpose);
    skip   nothing in it is run (the test command itself, benchmarks, other machines).
- A command that starts a node, `cargo run --release -- [FLAGS]` with flags only (no
  subcommand such as `wallet`), is started in the background and waited for (its first line
  `listening on URL`), wherever it appears (one node per line). If a node the test started
  already runs on that port it is first stopped with SIGINT, as Ctrl-C would in its
  terminal. Elsewhere,
  `cargo run --release --` (or `cargo run --`) runs the release binary.
- Ports 5000-5009 in commands (`:5000`, `/5000`, `--port 5000`) are moved to a block of free
  ports (--port-base), so a node a user has running on 5000 is never touched; a node
  started without `--port` gets the moved 5000.
"""

import argparse
import re
import shlex
import sys

MODES = ("run", "fails", "skip")
SHELL_FENCES = ("sh", "bash", "shell")
MARKER = re.compile(r"^\s*<!--\s*readme-test:\s*([A-Za-z-]+)\b.*-->\s*$")
FENCE = re.compile(r"^\s*```+\s*([A-Za-z0-9_+-]*)")
TABLE_CURL = re.compile(r"`(curl [^`]+)`")
NODE_START = re.compile(r"^((?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*)cargo run (?:--release )?--(\s.*)?$", re.S)
CARGO_RUN = re.compile(r"\bcargo run (?:--release )?--(?=\s|$)")
PORT = re.compile(r"(?<=[:/])50(0[0-9])\b|(?<=--port )50(0[0-9])\b")
SHELL_OPERATORS = ("|", "||", "&&", ";", ">", ">>", "<", "$(")


class ReadmeError(Exception):
    pass


def remap_ports(text, base):
    if base is None:
        return text
    return PORT.sub(lambda m: str(base + int(m.group(1) or m.group(2))), text)


def complete(command):
    """True when the command text is whole: no open quote, no trailing continuation."""
    stripped = command.rstrip()
    if stripped.endswith(("\\", "|", "&&", "||")):
        return False
    try:
        shlex.split(command, comments=True)
    except ValueError:
        return False
    return True


def block_commands(lines):
    """Splits a shell block's lines (number, text) into commands (first line number, text)."""
    commands, current, first = [], [], None
    for number, text in lines:
        if not current and (not text.strip() or text.strip().startswith("#")):
            continue
        if not current:
            first = number
        current.append(text)
        joined = "\n".join(current)
        if complete(joined):
            commands.append((first, joined))
            current = []
    if current:
        raise ReadmeError("line %d: command never ends: %s" % (first, current[0]))
    return commands


def extract(path):
    """Yields (line, mode, command) for every command of the file, in order."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    steps = []
    pending = None  # (line, mode) of a marker waiting for its block or table
    i = 0
    while i < len(lines):
        text = lines[i]
        number = i + 1
        marker = MARKER.match(text)
        fence = FENCE.match(text)
        if marker:
            mode = marker.group(1).lower()
            if mode not in MODES:
                raise ReadmeError("line %d: unknown readme-test mode %r (use %s)" % (number, mode, ", ".join(MODES)))
            pending = (number, mode)
            i += 1
            continue
        if fence:
            language = fence.group(1).lower()
            body = []
            i += 1
            while i < len(lines) and not FENCE.match(lines[i]):
                body.append((i + 1, lines[i]))
                i += 1
            i += 1  # the closing fence
            mode = pending[1] if pending else "run"
            if pending and language not in SHELL_FENCES:
                raise ReadmeError("line %d: the readme-test marker is followed by a ```%s block, not ```sh" % (pending[0], language))
            pending = None
            if language in SHELL_FENCES and mode != "skip":
                steps.extend((line, mode, command) for line, command in block_commands(body))
            continue
        if text.startswith("|"):
            mode = pending[1] if pending else "run"
            pending = None
            while i < len(lines) and lines[i].startswith("|"):
                if mode != "skip":
                    for span in TABLE_CURL.findall(lines[i]):
                        steps.append((i + 1, mode, span.replace("\\|", "|")))
                i += 1
            continue
        if pending and text.strip():
            raise ReadmeError("line %d: a readme-test marker must be followed by a ```sh block or a table" % pending[0])
        i += 1
    if pending:
        raise ReadmeError("line %d: a readme-test marker at the end of the file" % pending[0])
    return steps


def node_start(command):
    """For `cargo run --release -- FLAGS` returns (env assignments, flags); else None."""
    match = NODE_START.match(command.strip())
    if not match:
        return None
    try:
        tokens = shlex.split(command, comments=True)
    except ValueError:
        return None
    if any(t in SHELL_OPERATORS or t.startswith("$(") for t in tokens):
        return None
    if tokens and tokens[-1] == "&":
        tokens = tokens[:-1]
    if "&" in tokens:
        return None  # two commands on one line: plain shell
    env = []
    while tokens and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", tokens[0]):
        env.append(tokens.pop(0))
    start = tokens.index("--") + 1
    flags = tokens[start:]
    if flags and not flags[0].startswith("-"):
        return None  # a subcommand (e.g. `wallet`): an ordinary command
    return env, flags


def port_of(flags):
    for i, flag in enumerate(flags):
        if flag == "--port" and i + 1 < len(flags):
            return flags[i + 1]
        if flag.startswith("--port="):
            return flag.split("=", 1)[1]
    return "5000"


def emit_bash(steps, base):
    out = ["# Generated by scripts/readme-commands.py; sourced by scripts/readme-test.sh."]
    for line, mode, command in steps:
        shown = shlex.quote(command)
        node = node_start(remap_ports(command, base))
        if node is not None:
            env, flags = node
            if base is not None and not any(f == "--port" or f.startswith("--port=") for f in flags):
                flags = flags + ["--port", str(base)]  # the default port 5000, moved
            argv = ["env"] + env + ['"$RT_BIN"'] + [shlex.quote(f) for f in flags]
            out.append("rt_node %d %s %s %s -- %s" % (line, mode, shlex.quote(port_of(flags)), shown, " ".join(argv)))
        else:
            run = CARGO_RUN.sub('"$RT_BIN"', remap_ports(command, base))
            out.append("rt_cmd %d %s %s %s" % (line, mode, shown, shlex.quote(run)))
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("readme")
    parser.add_argument("--emit-bash", action="store_true", help="print the steps for readme-test.sh")
    parser.add_argument("--port-base", type=int, help="move ports 5000-5009 to this port and the 9 after it")
    args = parser.parse_args()
    try:
        steps = extract(args.readme)
    except (ReadmeError, OSError) as error:
        print("readme-commands: %s: %s" % (args.readme, error), file=sys.stderr)
        return 1
    if args.emit_bash:
        sys.stdout.write(emit_bash(steps, args.port_base))
        return 0
    for line, mode, command in steps:
        kind = "node" if node_start(command) is not None else "cmd"
        print("%5d  %-5s %-4s %s" % (line, mode, kind, command.replace("\n", "\n" + " " * 18)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
