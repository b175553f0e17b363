"""The README's command synopses name every option the commands take."""

from __future__ import annotations

import json
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


def test_the_readme_has_a_busy_morning_to_run_and_says_what_it_shows(tmp_path: Path) -> None:
    """A fresh manager found no ready command for a stretched service: the README's
    `generate` entry has one, and what it says the run shows is what it shows."""
    text = README.read_text(encoding="utf-8")
    entry = text[text.index("* `generate` —") :]
    block = entry[entry.index("```bash\n") + 8 : entry.index("\n  ```", entry.index("```bash"))]
    generate, allocate = (line.split()[1:] for line in block.strip().splitlines())
    assert generate[0] == "generate" and allocate[0] == "allocate", block
    runner = CliRunner()
    made = runner.invoke(main, [w.replace("busy", str(tmp_path / "busy")) for w in generate])
    assert made.exit_code == 0, made.output
    assert "wrote" in made.stderr and "150 practitioners, 3477 cases" in made.stderr
    ran = runner.invoke(main, [w.replace("busy", str(tmp_path / "busy")) for w in allocate])
    assert ran.exit_code == 0, ran.output
    said = " ".join(entry[: entry.index("\n* ")].split())
    shown = " ".join(ran.stderr.split())
    assert "3,477 cases (3,157 with a worker, 320 without), 370 children needing a" in said
    service = json.loads((tmp_path / "busy.json").read_text(encoding="utf-8"))
    assert sum(c.get("worker") is not None for c in service["cases"]) == 3157
    assert "35 allocated and 335 left without one (17 urgent, 145 statutory" in said
    assert "35 allocated, 335 unallocated" in shown
    assert "│ no_capacity │ 17 │ 145 │ 173 │ 335 │" in shown
    assert "the 103 workers already over their cap (the 5 furthest over one by one, the" in said
    assert "other 98 in one line), 2 leavers and 2 long absences" in said
    assert shown.count("is over their cap:") == 5 and shown.count(" leaves on ") == 2
    assert "103 workers are over their cap; the 5 furthest over are above, and 98 more:" in shown
    assert shown.count("(a long absence)") == 2
