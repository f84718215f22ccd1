"""docs/stacks.md: its Python and YAML examples run as written, in a fresh project."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "stacks.md"


def test_stacks_doc_examples_run(tmp_path: Path) -> None:
    blocks = re.findall(r"```(python|yaml)\n(.*?)```", DOC.read_text(), flags=re.S)
    python = [code for lang, code in blocks if lang == "python"]
    (config,) = [code for lang, code in blocks if lang == "yaml"]
    (tmp_path / "flowyml.yaml").write_text(config)
    env = {k: v for k, v in os.environ.items() if k not in {"FLOWYML_STACK", "ENVIRONMENT"}}
    env.update({"FLOWYML_PROJECT_DIR": str(tmp_path), "GCP_PROJECT_ID": "my-gcp-project"})
    done = subprocess.run(
        [sys.executable, "-c", "".join(python)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    # The doc's comment says what list_stacks() prints with its YAML.
    assert done.stdout.strip() == "['local', 'production', 'aws-prod']"
