"""The README's local commands, run as a user types them on a fresh clone: each line of its
bash blocks that needs neither Docker nor AWS (``make drop``, ``make invoke``, ``ocr read``,
``ocr eval``), in a shell at the repository root, without AWS or powertools variables.

Placeholders are filled in: ``photo.jpg`` is a real photo, ``[...]`` options are left out,
and ``ocr eval`` reads the first lines only (``--limit``) to keep the run to seconds. Not
run here: ``make serve`` (the page tests start that server), ``make test`` (this suite),
``make eval``/``eval-scenes``/``bench`` (minutes each; ``ocr eval --limit`` stands for them),
training, and everything that needs Docker, SAM or an AWS account.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from tests.conftest import DATA, REPO

README = (REPO / "README.md").read_text()
PHOTO = DATA / "svt_train" / "images" / "14_03.jpg"
RUN = re.compile(r"^(make (drop|invoke)\b|\.venv/bin/ocr (read|eval) )")
EVAL_LIMIT = 20


def _readme_commands() -> list[str]:
    """The matching lines of the README's bash blocks, comments and ``[...]`` dropped."""
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", README, flags=re.DOTALL):
        for line in block.splitlines():
            command = re.sub(r"\s*\[[^\]]*\]", "", line.split(" #", 1)[0]).strip()
            if RUN.match(command):
                lines.append(command)
    return lines


COMMANDS = _readme_commands()


def _as_run(command: str) -> str:
    command = command.replace("photo.jpg", str(PHOTO)).replace("../shared/data", str(DATA))
    if command.startswith(".venv/bin/ocr eval "):
        command += f" --limit {EVAL_LIMIT} --json"
    return command


def _fresh_shell_env() -> dict[str, str]:
    """This environment less what the tests set (AWS, powertools) and make's own variables:
    a user's shell, so `make invoke` must bring its own S3."""
    drop = ("AWS_", "POWERTOOLS_")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(drop) and k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull  # nothing from ~/.aws either
    return env


def _last_json(stdout: str) -> dict:
    """The last pretty-printed JSON object on stdout (after make's echo and log lines)."""
    lines = stdout.splitlines()
    start = max(i for i, line in enumerate(lines) if line == "{")
    return json.loads("\n".join(lines[start:]))


def test_the_readme_lists_each_kind_of_local_command():
    assert {c.split()[0] + " " + c.split()[1] for c in COMMANDS} >= {"make drop", "make invoke", ".venv/bin/ocr read",
                                                                     ".venv/bin/ocr eval"}
    assert "make invoke FUNCTION=s3_ocr EVENT=events/s3-put-image.json" in COMMANDS
    assert "make invoke FUNCTION=api EVENT=events/api-health.json" in COMMANDS
    assert "make invoke FUNCTION=bulk_ocr EVENT=events/bulk-batch.json" in COMMANDS
    assert all((REPO / re.search(r"EVENT=(\S+)", c).group(1)).is_file() for c in COMMANDS if "EVENT=" in c)


def _check_drop(command: str, out: str) -> None:
    result = _last_json(out)
    key = re.search(r'KEY="([^"]+)"', command)
    assert result["source"]["key"] == (key.group(1) if key else f"incoming/{PHOTO.name}")
    assert len(result["words"]) >= 1 and result["full_text"]


def _check_invoke(command: str, out: str) -> None:
    event = json.loads((REPO / re.search(r"EVENT=(\S+)", command).group(1)).read_text())
    if "FUNCTION=api" in command:
        response = _last_json(out)
        body = json.loads(response["body"])
        assert response["statusCode"] == 200 and body["model_loaded"] is True
        return
    if "FUNCTION=bulk_ocr" in command:  # one image read, the text file skipped, as the handler counts them
        bucket, key = event["BatchInput"]["bucket"], event["Items"][0]["key"]
        assert '"done": 1' in out and '"skipped": 1' in out
    else:
        bucket, key = event["Records"][0]["s3"]["bucket"]["name"], event["Records"][0]["s3"]["object"]["key"]
        assert f'"{key}": "done"' in out  # the handler's summary
    result = _last_json(out)  # then the <key>.ocr.json it wrote in the local bucket
    assert result["source"] == {**result["source"], "bucket": bucket, "key": key}
    assert result["image_size"] == {"width": 1280, "height": 880} and result["full_text"]


def _check_read(command: str, out: str) -> None:
    first = out.splitlines()[0]
    assert first.startswith(f"{PHOTO}: ") and len(first) > len(f"{PHOTO}: ") + 2  # some words read


def _check_eval(command: str, out: str) -> None:
    report = json.loads(out.strip().splitlines()[-1])
    assert report["n"] == EVAL_LIMIT and 0.5 <= report["word_accuracy"] <= 1


CHECKS = {"make drop": _check_drop, "make invoke": _check_invoke, ".venv/bin/ocr read": _check_read,
          ".venv/bin/ocr eval": _check_eval}


@pytest.mark.parametrize("command", COMMANDS)
def test_a_readme_command_runs_as_written(command, data_dir):
    assert PHOTO.is_file()
    # No wall-clock assertion: the timeout only stops a hung command (speed is ocr bench's to measure).
    proc = subprocess.run(["bash", "-c", _as_run(command)], cwd=REPO, env=_fresh_shell_env(), capture_output=True,
                          text=True, timeout=180, check=False)
    assert proc.returncode == 0, f"{command}\n{proc.stdout[-1500:]}\n{proc.stderr[-3000:]}"
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    CHECKS[" ".join(command.split()[:2])](command, proc.stdout)


def test_make_invoke_for_s3_makes_its_own_image_without_the_data_folder(tmp_path):
    # A fresh clone without ../shared: the object is a word image made on the spot.
    env = {**_fresh_shell_env(), "OCR_DATA_DIR": str(tmp_path / "no-data")}
    proc = subprocess.run([sys.executable, "infra/invoke.py", "s3_ocr",
                           "events/s3-put-unicode-key.json"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=180, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "a word image made here" in proc.stderr
    result = _last_json(proc.stdout)
    assert result["source"]["key"] == "incoming/Shop Sign é.JPG" and result["full_text"] == "open"


def test_a_wrong_invoke_says_so_in_one_line():
    for argv, says in ((["nope", "events/api-health.json"], "no function 'nope'"),
                       (["api", "events/missing.json"], "no event file"),
                       (["s3_ocr", "events/s3-put-image.json", "--image", "missing.jpg"], "no image at")):
        proc = subprocess.run([sys.executable, "infra/invoke.py", *argv], cwd=REPO,
                              env=_fresh_shell_env(), capture_output=True, text=True, timeout=60, check=False)
        assert proc.returncode == 2 and says in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_the_make_targets_read_the_data_where_ocr_data_dir_says(tmp_path):
    """`make drop`, `make eval` and `make eval-scenes` read ../shared/data even where the
    shell's OCR_DATA_DIR pointed elsewhere (as the README says it may)."""
    env = {**_fresh_shell_env(), "OCR_DATA_DIR": str(tmp_path)}
    proc = subprocess.run(["make", "-n", "drop", "eval", "eval-scenes"], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert f'local_drop "{tmp_path}/svt_train/images/14_03.jpg"' in proc.stdout
    assert f"ocr eval {tmp_path}/iiit5k/test.tsv" in proc.stdout
    assert f"ocr eval-scenes {tmp_path}/svt_train" in proc.stdout
