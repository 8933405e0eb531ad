"""The command line's own views: every setting with its value (never a secret's), and the
organizations."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from typer.testing import CliRunner

from clarion.cli import app as cli
from clarion.config import Settings

runner = CliRunner()


def _lines(env: dict[str, str], *args: str) -> list[str]:
    result = runner.invoke(cli, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


def test_config_shows_every_setting_and_no_secret(settings: Settings) -> None:
    env = {
        "CLARION_DATA_DIR": str(settings.data_dir),
        "CLARION_DATABASE_URL": "postgresql://clinic:hunter2-db@db.internal:5432/clarion",
        "CLARION_OPENAI_API_KEY": "sk-live-0a1b2c3d4e5f",
        "CLARION_ENDPOINTING_MS": "650",
        "CLARION_ALLOWED_NETWORKS": "10.0.0.0/8",
    }
    lines = _lines(env, "config")
    values = dict(line.split("=", 1) for line in lines if line.startswith("CLARION_"))

    assert len(values) == len(Settings.model_fields)  # every setting, once
    assert values["CLARION_ENDPOINTING_MS"] == "650"
    assert values["CLARION_ALLOWED_NETWORKS"] == "10.0.0.0/8"
    assert values["CLARION_OPENAI_API_KEY"] == "set"
    assert values["CLARION_ANTHROPIC_API_KEY"] == "not set"
    assert values["CLARION_DATABASE_URL"] == "postgresql://clinic:***@db.internal:5432/clarion"
    assert values["CLARION_AMD_TIMEOUT_SECONDS"] == "30"  # a default, shown as such
    text = "\n".join(lines)
    assert "sk-live-0a1b2c3d4e5f" not in text and "hunter2-db" not in text
    # Each says what it is for.
    assert all(not line.startswith("CLARION_") for line in lines[1::2])


def test_help_lists_the_settings_as_now_set(settings: Settings) -> None:
    env = os.environ | {
        "CLARION_DATA_DIR": str(settings.data_dir),
        "CLARION_OPENAI_API_KEY": "sk-live-9z8y7x",
        "COLUMNS": "200",
    }
    result = subprocess.run(
        [sys.executable, "-m", "clarion", "--help"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "CLARION_ENDPOINTING_MS=700" in result.stdout
    assert "CLARION_OPENAI_API_KEY=set" in result.stdout
    assert "sk-live-9z8y7x" not in result.stdout


def test_org_list_shows_each_organization_with_its_keys_in_use(settings: Settings) -> None:
    assert settings.database_url is not None
    env = {
        "CLARION_DATA_DIR": str(settings.data_dir),
        "CLARION_DATABASE_URL": settings.database_url,
    }
    first = json.loads(_lines(env, "org", "create", "First Clinic")[0])
    second = json.loads(_lines(env, "org", "create", "Second Clinic")[0])
    _lines(env, "key", "create", "--org", str(first["organization_id"]))
    _lines(env, "key", "revoke", str(second["key_id"]))

    listed = json.loads(_lines(env, "org", "list")[0])

    mine = {o["organization_id"]: o for o in listed}
    assert mine[first["organization_id"]]["name"] == "First Clinic"
    assert mine[first["organization_id"]]["active_keys"] == 2
    assert mine[second["organization_id"]]["active_keys"] == 0
    assert [o["organization_id"] for o in listed] == sorted(mine)
