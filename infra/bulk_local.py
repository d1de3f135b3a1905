"""Bulk OCR of a local bucket, with no AWS account and no Docker: the state machine of
infra/bulk_ocr.asl.json run here, step by step, against a moto S3.

    python -m infra.bulk_local --prefix scans/ [--images DIR] [--endpoint URL] [--workers N]
    python -m infra.bulk_local --stop        # stop the moto server an earlier run left running

The definition is the deployed one: its placeholders are filled from template.yaml's
DefinitionSubstitutions (parameter defaults, or ``--set BulkBatchSize=5``), then each state
does what Step Functions does with it:

* Settings (Pass): the prefix and the numbers the Map reads;
* OcrObjects (Distributed Map): the ItemReader lists the prefix (ListObjectsV2, every page),
  the ItemSelector shapes each listed object, the ItemBatcher groups them by
  MaxItemsPerBatch; a pool of at most MaxConcurrency worker processes (each one like a Lambda
  container: its own engine, the bulk function's own handler from template.yaml's
  ImageConfig) reads the batches, with the Task's retries; more failed objects than
  ToleratedFailurePercentage fails the run; the ResultWriter exports manifest.json and
  SUCCEEDED_0.json / FAILED_0.json under bulk-runs/<run id>/;
* Summarize (Task): the same handler adds them up into summary.json beside the manifest.

``--images DIR`` first puts the files of DIR (recursively) under the prefix; without it the
bucket's current objects are read. The bucket lives in a moto server on 127.0.0.1 that the
first run starts and leaves running (so a second run finds the results of the first and
skips them); ``--endpoint`` names another one.
"""

from __future__ import annotations

import argparse
import importlib
import json
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
import warnings
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from tqdm import tqdm

from infra.local_drop import s3_client
from infra.template_env import function_environment, load_template, parameter_values

REPO = Path(__file__).resolve().parents[1]
DEFINITION = REPO / "infra" / "bulk_ocr.asl.json"
TEMPLATE = REPO / "template.yaml"
STATE_MACHINE = "BulkOcrStateMachine"
BULK_FUNCTION = "BulkOcrFunction"
_NUMBER = re.compile(r"-?\d+(\.\d+)?")  # a CloudFormation Number parameter's value
BUCKET = "ocr-drop-local"
ENDPOINT = os.environ.get("OCR_BULK_ENDPOINT", "http://127.0.0.1:5055")
RUNTIME = Path(tempfile.gettempdir()) / "ocr-bulk-local"  # the server's pid and log, the workers' log
LOCAL_ACCOUNT = "123456789012"


# -- the definition, as CloudFormation hands it to Step Functions ---------------------------
def substitutions(bucket: str, overrides: dict[str, str] | None = None, template: Path = TEMPLATE) -> dict[str, str]:
    """template.yaml's DefinitionSubstitutions, resolved for a local run: a parameter's
    default (or its override), the local bucket for DropBucket, ``local:<handler>`` for the
    bulk function (its ImageConfig command)."""
    parsed = load_template(template)
    resources, params = parsed["Resources"], parsed["Parameters"]
    values = parameter_values(overrides, template)
    out = {}
    for key, expr in resources[STATE_MACHINE]["Properties"]["DefinitionSubstitutions"].items():
        if "Ref" in expr and expr["Ref"] in params:
            out[key] = values[expr["Ref"]]
        elif expr.get("Ref") == "DropBucket":
            out[key] = bucket
        elif "Fn::GetAtt" in expr:
            att = expr["Fn::GetAtt"]
            logical = att[0] if isinstance(att, list) else att.split(".")[0]
            out[key] = "local:" + resources[logical]["Properties"]["ImageConfig"]["Command"][0]
        else:
            raise ValueError(f"no local value for the substitution {key}: {expr}")
    return out


def parameter_overrides(given: list[str], template: Path = TEMPLATE) -> dict[str, str]:
    """``--set NAME=VALUE`` items, checked as CloudFormation checks a deploy's parameters
    (a known name; a Number within its MinValue/MaxValue; its AllowedPattern; one of its AllowedValues), so a run
    is never quietly made with a setting the template would refuse (a batch size of -1 listed
    nothing and succeeded)."""
    params = load_template(template)["Parameters"]
    out = {}
    for item in given:
        name, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--set {item}: expected NAME=VALUE")
        if name not in params:
            raise SystemExit(f"--set {item}: template.yaml has no parameter {name!r} "
                             f"(it has {', '.join(sorted(params))})")
        out[name] = _checked_value(name, value, params[name])
    return out


def _checked_value(name: str, value: str, spec: dict) -> str:
    if spec.get("Type") == "Number":
        if not _NUMBER.fullmatch(value):  # float() would take "nan", " 5" and "1_0"
            raise SystemExit(f"--set {name}={value}: {name} is a number")
        number = float(value)
        low, high = spec.get("MinValue"), spec.get("MaxValue")
        if (low is not None and number < float(low)) or (high is not None and number > float(high)):
            raise SystemExit(f"--set {name}={value}: {name} is between {low} and {high}")
    pattern = spec.get("AllowedPattern")  # CloudFormation matches the whole value
    if pattern is not None and not re.fullmatch(pattern, value):
        raise SystemExit(f"--set {name}={value}: {name} is {spec.get('ConstraintDescription', pattern)}")
    allowed = spec.get("AllowedValues")
    if allowed is not None and value not in map(str, allowed):
        raise SystemExit(f"--set {name}={value}: {name} is one of {', '.join(map(str, allowed))}")
    return value


def load_definition(subs: dict[str, str], path: Path = DEFINITION) -> dict:
    """The definition after CloudFormation's textual substitution of ``${Name}``."""
    text = path.read_text()
    missing = set(re.findall(r"\$\{(\w+)\}", text)) - set(subs)
    if missing:
        raise ValueError(f"{path.name} uses substitutions template.yaml does not give: {sorted(missing)}")
    return json.loads(re.sub(r"\$\{(\w+)\}", lambda m: subs[m.group(1)], text))


# -- the little of JSONPath and the intrinsics the definition uses --------------------------
def _path(expr: str, data: Any, context: dict) -> Any:
    root, rest = (context, expr[2:]) if expr.startswith("$$") else (data, expr[1:])
    for part in filter(None, rest.split(".")):
        root = root[part]
    return root


class ExecutionFailed(Exception):
    """A Fail state reached: the execution's error and cause."""

    def __init__(self, error: str, cause: str):
        super().__init__(f"{error}: {cause}")
        self.error, self.cause = error, cause


def _matches(rule: dict, data: Any) -> bool:
    """A Choice rule of the kinds the definition uses: ``IsPresent`` and ``IsString``."""
    try:
        value, present = _path(rule["Variable"], data, {}), True
    except (KeyError, TypeError):
        value, present = None, False
    if "IsPresent" in rule:
        return present == rule["IsPresent"]
    if "IsString" in rule:
        return present and isinstance(value, str) == rule["IsString"]
    raise ValueError(f"the local runner does not evaluate the Choice rule {rule}")


def input_at(states: dict, start: str, execution_input: dict, stop: str) -> dict:
    """The states from ``start`` to ``stop`` run on the execution's input (Choice, a Pass
    that sets a field, Fail) -> the input ``stop`` gets; ``ExecutionFailed`` at a Fail."""
    name, data = start, dict(execution_input)
    while name != stop:
        state = states[name]
        if state["Type"] == "Choice":
            name = next((rule["Next"] for rule in state["Choices"] if _matches(rule, data)), state["Default"])
        elif state["Type"] == "Pass" and "Result" in state:
            data = {**data, state["ResultPath"].removeprefix("$."): state["Result"]}
            name = state["Next"]
        elif state["Type"] == "Fail":
            raise ExecutionFailed(state["Error"], state["Cause"])
        else:
            raise ValueError(f"the local runner does not run the state {name} ({state['Type']}) before {stop}")
    return data


def evaluate(template: Any, data: Any, context: dict | None = None) -> Any:
    """A Parameters / ItemSelector / Payload block: ``"x.$"`` keys take a path (``$.a``,
    ``$$.Map.Item.Value.Key``) or ``States.StringToJson('...')``; other values are literal."""
    if isinstance(template, list):
        return [evaluate(v, data, context) for v in template]
    if not isinstance(template, dict):
        return template
    out = {}
    for key, value in template.items():
        if not key.endswith(".$"):
            out[key] = evaluate(value, data, context)
        elif m := re.fullmatch(r"States\.StringToJson\('(.*)'\)", value):
            out[key[:-2]] = json.loads(m.group(1))
        else:
            out[key[:-2]] = _path(value, data, context or {})
    return out


# -- the Lambda side: worker processes, each one a container of the bulk function ------------
_handler = None


def _start_worker(env: dict[str, str], handler_path: str, log: str) -> None:
    global _handler
    os.environ.update(env)
    # The worker's logs, EMF lines and LiteRT's own messages go to the log, not over the progress bar.
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    sys.stdout = sys.stderr = open(fd, "w", buffering=1, closefd=False)  # noqa: SIM115 - for the worker's life
    warnings.filterwarnings("ignore", message="No application metrics to publish")  # the summary step has none
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    module, func = handler_path.rsplit(".", 1)
    _handler = getattr(importlib.import_module(module), func)


def _invoke(payload: dict) -> dict:
    """One invocation -> {"Payload": output} or {"Error": exception name, "Cause": message},
    as Step Functions' lambda:invoke sees it."""
    ctx = SimpleNamespace(function_name="ocr-bulk-local", function_version="$LATEST", memory_limit_in_mb=2048,
                          aws_request_id=str(uuid.uuid4()), log_group_name="/aws/lambda/ocr-bulk-local",
                          invoked_function_arn=f"arn:aws:lambda:us-east-1:{LOCAL_ACCOUNT}:function:ocr-bulk-local",
                          get_remaining_time_in_millis=lambda: 900_000)
    try:
        return {"Payload": json.loads(json.dumps(_handler(payload, ctx), default=str))}
    except Exception as exc:  # the state machine sees the function's error by its name
        return {"Error": type(exc).__name__, "Cause": str(exc)[:2000]}


def _retry_delays(task: dict, error: str) -> list[float]:
    """The waits before each retry the Task's Retry allows for ``error``."""
    for rule in task.get("Retry", []):
        if error in rule["ErrorEquals"] or "States.ALL" in rule["ErrorEquals"]:
            first, rate = rule.get("IntervalSeconds", 1), rule.get("BackoffRate", 2.0)
            return [first * rate**n for n in range(rule.get("MaxAttempts", 3))]
    return []


# -- the state machine -----------------------------------------------------------------------
def list_items(s3, bucket: str, prefix: str) -> Iterator[dict]:
    """Listed objects as Step Functions' S3 item reader gives them (LastModified in epoch s)."""
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            yield {"Key": obj["Key"], "Etag": obj["ETag"], "LastModified": int(obj["LastModified"].timestamp()),
                   "Size": obj["Size"], "StorageClass": obj.get("StorageClass", "STANDARD")}


def _batches(items: list[dict], size: int) -> list[list[dict]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def run_state_machine(s3, bucket: str, execution_input: dict, endpoint: str, workers: int | None = None,
                      overrides: dict[str, str] | None = None, progress: bool = True) -> dict:
    """One execution. -> {"status": "SUCCEEDED" | "FAILED", "summary": ..., "run": ...}"""
    definition = load_definition(substitutions(bucket, overrides))
    states = definition["States"]
    settings_state, map_state, summarize_state = (states[n] for n in ("Settings", "OcrObjects", "Summarize"))
    try:
        data = evaluate(settings_state["Parameters"],
                        input_at(states, definition["StartAt"], execution_input, stop="Settings"))
    except ExecutionFailed as failed:
        return {"status": "FAILED", "error": failed.error, "cause": failed.cause}

    reader = evaluate(map_state["ItemReader"]["Parameters"], data)
    assert map_state["ItemReader"]["Resource"].endswith(":s3:listObjectsV2")
    run_id = str(uuid.uuid4())
    machine_arn = f"arn:aws:states:us-east-1:{LOCAL_ACCOUNT}:stateMachine:ocr-bulk-local"
    execution = {"Id": f"{_executions_of(machine_arn)}:{run_id}"}  # the context's $$.Execution
    items = [evaluate(map_state["ItemSelector"], data, {"Map": {"Item": {"Value": listed, "Index": i}},
                                                        "Execution": execution})
             for i, listed in enumerate(list_items(s3, reader["Bucket"], reader.get("Prefix", "")))]
    batcher = map_state["ItemBatcher"]
    batch_size = _path(batcher["MaxItemsPerBatchPath"], data, {})
    batch_input = evaluate(batcher["BatchInput"], data)
    max_concurrency = _path(map_state["MaxConcurrencyPath"], data, {})
    tolerated = _path(map_state["ToleratedFailurePercentagePath"], data, {})
    task = next(iter(map_state["ItemProcessor"]["States"].values()))
    function = task["Parameters"]["FunctionName"]
    assert function.startswith("local:") and task["Resource"].endswith(":lambda:invoke")

    map_run_arn = f"arn:aws:states:us-east-1:{LOCAL_ACCOUNT}:mapRun:ocr-bulk-local/{map_state['Label']}:{run_id}"
    # The deployed function's variables (its 10 MiB image limit...) where the shell sets none
    # (the workers inherit the shell's), then the local S3's.
    deployed = {k: v for k, v in function_environment(BULK_FUNCTION, overrides).items() if k not in os.environ}
    env = {**deployed,
           "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
           "AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true"}
    RUNTIME.mkdir(exist_ok=True)
    pool_size = max(1, min(int(max_concurrency), workers or os.cpu_count() or 1))
    executions: dict[str, list[dict]] = {"SUCCEEDED": [], "FAILED": []}
    pending = _batches(items, int(batch_size))
    ctx = multiprocessing.get_context("spawn")  # each worker a fresh interpreter, like a new container
    with ProcessPoolExecutor(pool_size, mp_context=ctx, initializer=_start_worker,
                             initargs=(env, function.removeprefix("local:"), str(RUNTIME / "workers.log"))) as pool, \
            tqdm(total=len(items), unit="obj", desc=f"bulk s3://{bucket}/{data['prefix']}",
                 disable=not progress) as bar:
        running: dict[Future, tuple[list[dict], int, str]] = {}

        def submit(batch: list[dict], attempt: int = 0, started: str | None = None) -> None:
            payload = evaluate(task["Parameters"], {"BatchInput": batch_input, "Items": batch})["Payload"]
            running[pool.submit(_invoke, payload)] = (batch, attempt, started or _now())

        for batch in pending:
            submit(batch)
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                batch, attempt, started = running.pop(future)
                answer = future.result()
                payload_in = json.dumps({"BatchInput": batch_input, "Items": batch})
                if "Error" in answer:
                    delays = _retry_delays(task, answer["Error"])
                    if attempt < len(delays):
                        time.sleep(delays[attempt])
                        submit(batch, attempt + 1, started)
                        continue
                    executions["FAILED"].append(_execution(machine_arn, map_state, payload_in, started,
                                                           "FAILED", error=answer))
                else:
                    output = _path(task["OutputPath"], answer, {})
                    executions["SUCCEEDED"].append(_execution(machine_arn, map_state, payload_in, started,
                                                              "SUCCEEDED", output=output))
                bar.update(len(batch))
        failed_items = sum(len(json.loads(e["Input"])["Items"]) for e in executions["FAILED"])
        map_failed = bool(items) and failed_items * 100 > float(tolerated) * len(items)
        writer = evaluate(map_state["ResultWriter"]["Parameters"], data)
        details = _write_results(s3, writer["Bucket"], writer["Prefix"], run_id, map_run_arn, executions)
        if map_failed:
            return {"status": "FAILED", "error": "States.ExceedToleratedFailureThreshold",
                    "failed_objects": failed_items, "listed": len(items), "results": details}
        data[map_state["ResultPath"][2:]] = {"MapRunArn": map_run_arn, "ResultWriterDetails": details}
        answer = pool.submit(_invoke, evaluate(summarize_state["Parameters"], data)["Payload"]).result()
    if "Error" in answer:
        return {"status": "FAILED", "error": answer["Error"], "cause": answer["Cause"], "results": details}
    return {"status": "SUCCEEDED", "summary": _path(summarize_state["OutputPath"], answer, {})}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _executions_of(machine_arn: str) -> str:
    """Where the ARNs of a state machine's executions begin."""
    return machine_arn.replace(":stateMachine:", ":execution:")


def _execution(machine_arn: str, map_state: dict, payload: str, started: str, status: str,
               output: dict | None = None, error: dict | None = None) -> dict:
    """One child execution as the ResultWriter exports it."""
    name = str(uuid.uuid4())
    entry = {"ExecutionArn": f"{_executions_of(machine_arn)}/{map_state['Label']}:{name}",
             "Name": name, "Input": payload, "InputDetails": {"Included": True}, "StartDate": started,
             "StateMachineArn": machine_arn, "Status": status, "StopDate": _now()}
    if output is not None:
        entry.update(Output=json.dumps(output), OutputDetails={"Included": True})
    if error is not None:
        entry.update(error)
    return entry


def _write_results(s3, bucket: str, prefix: str, run_id: str, map_run_arn: str,
                   executions: dict[str, list[dict]]) -> dict:
    """The ResultWriter's export: <prefix>/<run id>/manifest.json and one file per status."""
    folder = f"{prefix.rstrip('/')}/{run_id}"
    files: dict[str, list[dict]] = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
    for status, entries in executions.items():
        if entries:
            body = json.dumps(entries).encode()
            key = f"{folder}/{status}_0.json"
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            files[status].append({"Key": key, "Size": len(body)})
    manifest = {"DestinationBucket": bucket, "MapRunArn": map_run_arn, "ResultFiles": files}
    key = f"{folder}/manifest.json"
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(manifest).encode())
    return {"Bucket": bucket, "Key": key}


# -- the local bucket ------------------------------------------------------------------------

def _answers(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(endpoint + "/moto-api/", timeout=1):
            return True
    except OSError:
        return False


def ensure_server(endpoint: str) -> None:
    """Start a moto server at ``endpoint`` (127.0.0.1 only) unless one answers there; it keeps
    running after this run, so the next one finds the same bucket."""
    if _answers(endpoint):
        return
    m = re.fullmatch(r"http://127\.0\.0\.1:(\d+)", endpoint)
    if not m:
        raise SystemExit(f"nothing answers at {endpoint}, and only a 127.0.0.1 one is started here")
    RUNTIME.mkdir(exist_ok=True)
    with open(RUNTIME / "moto.log", "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", m.group(1)],
                                stdout=log, stderr=log, start_new_session=True)
    (RUNTIME / "moto.pid").write_text(str(proc.pid))
    for _ in range(100):
        if _answers(endpoint):
            print(f"started a moto server on {endpoint} (pid {proc.pid}); it keeps the bucket between runs. "
                  f"Stop it with: python -m infra.bulk_local --stop", file=sys.stderr)
            return
        time.sleep(0.1)
    raise SystemExit(f"the moto server did not start: see {RUNTIME / 'moto.log'}")


def stop_server() -> int:
    pid_file = RUNTIME / "moto.pid"
    if not pid_file.exists():
        print("no moto server was started by an earlier run", file=sys.stderr)
        return 0
    pid = int(pid_file.read_text())
    try:
        os.kill(pid, signal.SIGTERM)
        print(f"stopped the moto server (pid {pid})", file=sys.stderr)
    except ProcessLookupError:
        print(f"the moto server (pid {pid}) had already stopped", file=sys.stderr)
    pid_file.unlink()
    return 0


def upload(s3, bucket: str, prefix: str, images: Path) -> int:
    """Put every file under ``images`` at ``<prefix><relative path>``."""
    if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=bucket)
    files = sorted(p for p in images.rglob("*") if p.is_file())
    for path in tqdm(files, unit="file", desc=f"put {images} -> s3://{bucket}/{prefix}", leave=False):
        s3.put_object(Bucket=bucket, Key=prefix + path.relative_to(images).as_posix(), Body=path.read_bytes())
    return len(files)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--prefix", default="", help="the objects to read (default: the whole bucket)")
    p.add_argument("--images", type=Path, help="first put the files of this folder under the prefix")
    p.add_argument("--endpoint", default=ENDPOINT, help=f"the S3 endpoint (default {ENDPOINT}, started if silent)")
    p.add_argument("--bucket", default=BUCKET)
    p.add_argument("--workers", type=int, help="worker processes (default: the CPUs, at most MaxConcurrency)")
    p.add_argument("--set", action="append", default=[], metavar="PARAM=VALUE",
                   help="a template parameter for this run, e.g. BulkBatchSize=5")
    p.add_argument("--stop", action="store_true", help="stop the moto server an earlier run started, and exit")
    args = p.parse_args(argv)
    if args.stop:
        return stop_server()
    overrides = parameter_overrides(args.set)  # before any work: a bad setting is a usage error
    ensure_server(args.endpoint)
    s3 = s3_client(args.endpoint)
    if args.images:
        if not args.images.is_dir():
            raise SystemExit(f"{args.images} is not a folder")
        print(f"put {upload(s3, args.bucket, args.prefix, args.images)} files under s3://{args.bucket}/{args.prefix}",
              file=sys.stderr)
    elif args.bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        raise SystemExit(f"no bucket {args.bucket} at {args.endpoint} yet: give IMAGES=dir to load one")
    result = run_state_machine(s3, args.bucket, {"prefix": args.prefix}, args.endpoint, args.workers, overrides)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0 if result["status"] == "SUCCEEDED" else 1


if __name__ == "__main__":
    sys.exit(main())
