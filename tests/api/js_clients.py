"""Drive the npm registry's Cognito clients (tests/node/*.mjs) from pytest: one Node process per
client session, one JSON line per step, each answer carrying the wire traffic it caused."""

from __future__ import annotations

import fcntl
import json
import select
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.api.shape_check import output_problems

NODE = shutil.which("node")
NODE_DIR = Path(__file__).resolve().parents[1] / "node"
LOCK_FILE = NODE_DIR / "package-lock.json"
# Touched after `npm ci`; the Makefile's node-deps target writes the same stamp.
STAMP = NODE_DIR / "node_modules" / ".stamp-package-lock"
# A guard against a hung client, not a timing assertion: a step normally answers in well under
# a second, SRP included.
STEP_TIMEOUT = 60


def install_node_modules() -> None:
    """`npm ci` in tests/node when node_modules is missing or older than the lock file. Locked, so
    that two pytest-xdist workers never install into the same folder at once."""
    npm = shutil.which("npm")
    assert npm, "node is installed but npm is not: install npm to run the JavaScript clients"
    with open(NODE_DIR / ".npm-ci.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if STAMP.exists() and STAMP.stat().st_mtime >= LOCK_FILE.stat().st_mtime:
            return
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=NODE_DIR,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, f"npm ci failed in {NODE_DIR}:\n{done.stderr[-3000:]}"
        STAMP.touch()


@dataclass
class Step:
    """One step's answer: its result or its error, and the calls it made on the wire."""

    op: str
    ok: bool
    result: Any = None
    error: dict[str, Any] = field(default_factory=dict)
    wire: list[dict[str, Any]] = field(default_factory=list)

    @property
    def targets(self) -> list[str]:
        return [call["target"] for call in self.wire]

    def calls(self, target: str) -> list[dict[str, Any]]:
        return [call for call in self.wire if call["target"] == target]

    def traffic(self) -> str:
        """The wire log, one call a line, for an assertion's message."""
        return "\n".join(
            f"  {call['target']} {call.get('status')} request={json.dumps(call['request'])[:400]}"
            f" answer={json.dumps(call.get('response'))[:400]}"
            for call in self.wire
        )


class NodeClient:
    """A running client script: `step(op, **input)` sends one step and waits for its answer."""

    def __init__(self, script: str, settings: dict[str, Any]) -> None:
        assert NODE, "node is not installed"
        self.stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in close())
        self.process = subprocess.Popen(
            [NODE, str(NODE_DIR / script), json.dumps(settings)],
            cwd=NODE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
        )
        self.steps: list[Step] = []

    def step(self, op: str, **input: Any) -> Step:
        self.process.stdin.write(json.dumps({"op": op, "input": input}).encode() + b"\n")
        self.process.stdin.flush()
        ready, _, _ = select.select([self.process.stdout], [], [], STEP_TIMEOUT)
        line = self.process.stdout.readline() if ready else b""
        if not line:
            self.stderr.seek(0)
            raise AssertionError(f"{op}: no answer from the script\n{self.stderr.read()[-3000:]}")
        answer = json.loads(line)
        step = Step(
            op=op,
            ok=answer["ok"],
            result=answer.get("result"),
            error=answer.get("error") or {},
            wire=answer.get("wire", []),
        )
        self.steps.append(step)
        return step

    def ok(self, op: str, **input: Any) -> Any:
        """Run a step that must succeed; its result."""
        step = self.step(op, **input)
        assert step.ok, f"{op} failed: {step.error}\n{step.traffic()}"
        return step.result

    def fails(self, op: str, **input: Any) -> dict[str, Any]:
        """Run a step that must fail; its error ({name, message})."""
        step = self.step(op, **input)
        assert not step.ok, f"{op} succeeded: {step.result}\n{step.traffic()}"
        return step.error

    def answers_fit_the_model(self) -> int:
        """Check every 200 answer seen on the wire against botocore's output shape; how many."""
        checked = 0
        for step in self.steps:
            for call in step.wire:
                if call.get("status") == 200:
                    problems = output_problems(call["target"], call["response"])
                    assert not problems, problems
                    checked += 1
        return checked

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()
        self.stderr.close()
