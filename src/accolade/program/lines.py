"""Where a path of a program file's error (``actions[2].points``) is in its text: the line an
editor shows it at. The loader names errors by path; a person fixing the file looks for lines."""

from __future__ import annotations

import re

import yaml

_STEP = re.compile(r"\[(\d+)\]|([^.\[\]]+)")
_LINE = re.compile(r"^line (\d+), column \d+$")  # the loader's name for a YAML syntax error


def path_steps(path: str) -> list[str | int]:
    """``actions[2].points`` -> ``["actions", 2, "points"]``."""
    return [int(index) if index else key for index, key in _STEP.findall(path)]


def line_of(source: str, path: str) -> int | None:
    """The line (from 1) of ``path`` in ``source``: the line of its key or list item, or of the
    nearest enclosing one when it is missing (``is required``); None when the text does not
    parse or the path is empty."""
    syntax = _LINE.match(path)
    if syntax:
        return int(syntax.group(1))
    steps = path_steps(path)
    if not steps:
        return None
    try:
        node = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    line: int | None = None
    for step in steps:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode) and isinstance(step, str):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == step:
                    line, child = key.start_mark.line + 1, value
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(step, int)
            and 0 <= step < len(node.value)
        ):
            child = node.value[step]
            line = child.start_mark.line + 1
        if child is None:
            return line
        node = child
    return line
