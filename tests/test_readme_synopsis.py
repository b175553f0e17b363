"""The README's command synopses name every option the commands take."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from allocator.cli import main

README = Path(__file__).parent.parent / "README.md"


def _synopsis(command: str) -> str:
    """The README's synopsis lines of ``allocator COMMAND``, up to the next command."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"allocator {command} ", text.index("## What it does"))
    rest = text[start + 1 :]
    end = re.search(r"\nallocator \w", rest)
    return rest[: end.start()] if end else rest


@pytest.mark.parametrize("command", ["allocate", "rebalance", "recommend", "apply", "serve", "log"])
def test_the_readme_synopsis_names_every_option(command: str) -> None:
    helped = CliRunner().invoke(main, [command, "--help"]).output
    options = set(re.findall(r"^\s+(--[a-z][a-z-]*)", helped, flags=re.M)) - {"--help"}
    missing = sorted(o for o in options if o not in _synopsis(command))
    assert not missing, f"README's {command} synopsis leaves out {missing}"


def test_the_readme_says_how_to_reproduce_the_stretched_service() -> None:
    text = README.read_text(encoding="utf-8")
    assert "30 % Welsh" in text and "`stretched()`" in text
