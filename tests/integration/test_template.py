"""template.yaml, translated offline as `sam validate` does, then checked for what matters."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import tomllib

import pytest
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

from tests.conftest import REPO

IMAGE_URI = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ocr:latest"


class _Policies:
    """Managed policies SAM attaches (offline: no IAM lookup)."""

    def load(self) -> dict:
        return {n: f"arn:aws:iam::aws:policy/{n}" for n in (
            "AWSLambdaBasicExecutionRole", "AWSXrayWriteOnlyAccess", "AWSXRayDaemonWriteAccess")}


@pytest.fixture(scope="module")
def sam() -> dict:
    return yaml_parse((REPO / "template.yaml").read_text())


@pytest.fixture(scope="module")
def cfn(sam) -> dict:
    template = json.loads(json.dumps(sam))
    for res in template["Resources"].values():
        if res["Type"] == "AWS::Serverless::Function":
            res["Properties"]["ImageUri"] = IMAGE_URI
        if res["Type"] == "AWS::Serverless::StateMachine":
            # What `sam package` uploads, inline: the translated template's lint then checks
            # the definition itself (cfn-lint E3601), with its substitutions.
            path = REPO / res["Properties"].pop("DefinitionUri")
            res["Properties"]["Definition"] = json.loads(path.read_text())
    return transform(template, {}, _Policies())


def _refs(node) -> set[str]:
    if isinstance(node, dict):
        out = set()
        for k, v in node.items():
            if k == "Ref" and isinstance(v, str):
                out.add(v)
            elif k == "Fn::GetAtt":
                out.add(v[0] if isinstance(v, list) else v.split(".")[0])
            elif k == "Fn::Sub":
                text = v if isinstance(v, str) else v[0]
                out |= {p.split("}")[0].split(".")[0] for p in text.split("${")[1:]}
            out |= _refs(v)
        return out
    if isinstance(node, list):
        return set().union(*(_refs(x) for x in node)) if node else set()
    return set()


def test_no_dependency_cycle(cfn):
    resources = cfn["Resources"]
    deps = {}
    for name, res in resources.items():
        d = _refs(res.get("Properties", {})) | set(
            [res["DependsOn"]] if isinstance(res.get("DependsOn"), str) else res.get("DependsOn", []))
        deps[name] = {x for x in d if x in resources}
    seen, stack = set(), set()

    def visit(n):
        assert n not in stack, f"dependency cycle through {n}"
        if n in seen:
            return
        stack.add(n)
        for m in deps[n]:
            visit(m)
        stack.discard(n)
        seen.add(n)

    for n in resources:
        visit(n)


def test_both_functions_use_one_image_with_their_own_handler(sam):
    funcs = {n: r for n, r in sam["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}
    assert set(funcs) == {"ApiFunction", "S3OcrFunction", "BulkOcrFunction"}
    for res in funcs.values():
        props = res["Properties"]
        assert props["PackageType"] == "Image"
        assert res["Metadata"]["Dockerfile"] == "infra/Dockerfile" and res["Metadata"]["DockerContext"] == "."
        module, func = props["ImageConfig"]["Command"][0].rsplit(".", 1)
        assert importlib.util.find_spec(module) is not None and func == "handler"


def test_s3_events_cover_image_suffixes_in_both_cases(sam):
    events = sam["Resources"]["S3OcrFunction"]["Properties"]["Events"].values()
    suffixes = {r["Value"] for e in events for r in e["Properties"]["Filter"]["S3Key"]["Rules"]}
    for ext in (".jpg", ".jpeg", ".png", ".webp"):
        assert ext in suffixes and ext.upper() in suffixes
    assert not any(s.endswith(".json") for s in suffixes)  # never re-triggered by its results


def _statements(cfn, role_prefix: str) -> list[dict]:
    role = next(r for n, r in cfn["Resources"].items() if n.startswith(role_prefix) and r["Type"] == "AWS::IAM::Role")
    return [s for p in role["Properties"].get("Policies", []) for s in p["PolicyDocument"]["Statement"]]


def test_s3_function_reads_images_and_writes_only_results(cfn):
    stmts = _statements(cfn, "S3OcrFunctionRole")
    actions = {a: s for s in stmts for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert "s3:PutObject" in actions
    assert _eval(actions["s3:PutObject"]["Resource"], _deployed(cfn)[0]).endswith("/*.ocr.json")
    assert not any(a in actions for a in ("s3:*", "s3:DeleteObject", "s3:PutBucketPolicy"))


def test_api_function_has_no_s3_access(cfn):
    stmts = _statements(cfn, "ApiFunctionRole")
    actions = [a for s in stmts for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])]
    assert actions == ["cloudwatch:GetMetricStatistics"]


def test_bucket_is_private_encrypted_and_tls_only(sam):
    bucket = sam["Resources"]["DropBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    stmt = sam["Resources"]["DropBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert stmt["Effect"] == "Deny" and stmt["Condition"]["Bool"]["aws:SecureTransport"] is False


def test_async_failures_reach_the_failure_queue(cfn):
    cfg = next(r for r in cfn["Resources"].values() if r["Type"] == "AWS::Lambda::EventInvokeConfig")
    assert cfg["Properties"]["MaximumRetryAttempts"] == 2
    assert cfg["Properties"]["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["FailureQueue", "Arn"]}


def _resolve(node, params: dict, conditions: dict):
    """Just enough of CloudFormation's evaluation for the route settings: Ref and Fn::If."""
    if isinstance(node, dict):
        if set(node) == {"Ref"}:
            return params.get(node["Ref"], node)
        if set(node) == {"Fn::If"}:
            cond, yes, no = node["Fn::If"]
            return _resolve(yes if conditions[cond] else no, params, conditions)
        return {k: _resolve(v, params, conditions) for k, v in node.items()}
    return node


def _routes(cfn, api_auth: str) -> dict[str, dict]:
    params = {"ApiAuth": api_auth}
    conditions = {"UseJwt": api_auth == "JWT"}
    routes = {}
    for res in cfn["Resources"].values():
        if res["Type"] == "AWS::ApiGatewayV2::Route":
            props = _resolve(res["Properties"], params, conditions)
            if props.get("AuthorizerId") == {"Ref": "AWS::NoValue"}:
                del props["AuthorizerId"]
            routes[props["RouteKey"]] = props
    return routes


@pytest.mark.parametrize("api_auth", ["AWS_IAM", "JWT"])
def test_api_auth_guards_every_route_that_runs_ocr(cfn, api_auth):
    routes = _routes(cfn, api_auth)
    public = {key for key, r in routes.items() if r.get("AuthorizationType", "NONE") == "NONE"}
    # Only reading routes stay open (HEAD too: uptime checks; it fell to the guarded ANY route, and
    # HEAD / to no route at all); every POST (any path) and the stats are guarded.
    assert public == {"GET /", "GET /{proxy+}", "HEAD /", "HEAD /{proxy+}", "OPTIONS /{proxy+}"}
    for key in ("ANY /{proxy+}", "GET /api/stats", "HEAD /api/stats"):
        assert routes[key]["AuthorizationType"] == api_auth
        assert ("AuthorizerId" in routes[key]) == (api_auth == "JWT")
    if api_auth == "JWT":
        assert routes["ANY /{proxy+}"]["AuthorizerId"] == {"Ref": "JwtAuthorizer"}


def test_api_auth_none_leaves_the_api_open_and_creates_no_authorizer(cfn):
    routes = _routes(cfn, "NONE")
    assert all(r.get("AuthorizationType", "NONE") == "NONE" for r in routes.values())
    assert cfn["Resources"]["JwtAuthorizer"]["Condition"] == "UseJwt"
    assert cfn["Parameters"]["ApiAuth"]["AllowedValues"] == ["NONE", "AWS_IAM", "JWT"]


def test_every_route_reaches_the_api_function_which_only_api_gateway_may_invoke(cfn):
    resources = cfn["Resources"]
    targets = {r["Properties"]["Target"]["Fn::Sub"] for r in resources.values()
               if r["Type"] == "AWS::ApiGatewayV2::Route"}
    assert targets == {"integrations/${ApiIntegration}"}
    assert resources["ApiIntegration"]["Properties"]["IntegrationUri"] == {"Fn::GetAtt": ["ApiFunction", "Arn"]}
    perm = resources["ApiInvokePermission"]["Properties"]
    assert perm["Principal"] == "apigateway.amazonaws.com" and "${HttpApi}/*" in perm["SourceArn"]["Fn::Sub"]


def test_api_stage_throttles_and_logs_access(cfn):
    stage = cfn["Resources"]["ApiStage"]["Properties"]
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] == {"Ref": "ThrottleRate"}
    assert "$context.status" in stage["AccessLogSettings"]["Format"]


def test_dashboard_is_valid_json_over_the_metrics_the_functions_publish(sam):
    body, variables = sam["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    text = re.sub(r"\$\{([^}]+)\}", lambda m: variables.get(m.group(1), "x"), body)
    widgets = json.loads(text)["widgets"]
    namespace = sam["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
    ours = {m[1] for w in widgets for m in w["properties"]["metrics"] if m[0] == namespace}
    published = set()
    for source in REPO.glob("functions/**/*.py"):
        published |= set(re.findall(r'(?:add_metric|single_metric)\(name="(\w+)"', source.read_text()))
    assert ours == {"ImagesProcessed", "InferenceMs", "Errors", "InternalErrors", "RecordsDropped"}
    assert ours <= published


def test_every_function_names_its_cold_start_and_keeps_its_logs_30_days(sam):
    """Powertools gives the ColdStart metric the dimensions function_name and service only: its
    name must be the handler's own Function, not the physical name a replacement changes. The
    functions' logs would otherwise be /aws/lambda groups that never expire and outlive the stack."""
    for name, module in (("ApiFunction", "api"), ("S3OcrFunction", "s3_ocr"), ("BulkOcrFunction", "bulk_ocr")):
        props = sam["Resources"][name]["Properties"]
        handler = importlib.import_module(f"functions.{module}.app")
        assert props["Environment"]["Variables"]["POWERTOOLS_METRICS_FUNCTION_NAME"] == handler.FUNCTION
        group = sam["Resources"][props["LoggingConfig"]["LogGroup"]["Ref"]]
        assert group["Type"] == "AWS::Logs::LogGroup" and group["Properties"]["RetentionInDays"] == 30


# -- limits of the platform (issue 12, item 7) ------------------------------------------
ACCOUNT_CONCURRENCY = 1000  # a new account's default concurrency limit
UNRESERVED_MINIMUM = 100  # Lambda keeps this much unreserved: reservations past it fail
_PSEUDO = {"AWS::AccountId": "123456789012", "AWS::Region": "us-east-1", "AWS::Partition": "aws",
           "AWS::URLSuffix": "amazonaws.com"}


def _defaults(cfn) -> dict:
    return {name: p["Default"] for name, p in cfn["Parameters"].items() if "Default" in p}


def _eval(node, params: dict, conditions: dict | None = None):
    """CloudFormation's intrinsics that these checks meet: Ref, Sub, Select, Split, If, Not,
    Equals. ``params`` also holds the pseudo parameters."""
    if isinstance(node, list):
        return [_eval(x, params, conditions) for x in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Ref"}:
        return params.get(node["Ref"], node)
    if set(node) == {"Fn::Sub"}:
        text, variables = (node["Fn::Sub"], {}) if isinstance(node["Fn::Sub"], str) else node["Fn::Sub"]
        scope = {**params, **{k: _eval(v, params, conditions) for k, v in variables.items()}}
        return re.sub(r"\$\{([^}!]+)\}", lambda m: str(scope[m.group(1)]), text)
    if set(node) == {"Fn::Select"}:
        index, items = _eval(node["Fn::Select"], params, conditions)
        return items[int(index)]
    if set(node) == {"Fn::Split"}:
        sep, text = _eval(node["Fn::Split"], params, conditions)
        return text.split(sep)
    if set(node) == {"Fn::If"}:
        cond, yes, no = node["Fn::If"]
        return _eval(yes if (conditions or {})[cond] else no, params, conditions)
    if set(node) == {"Fn::Not"}:
        return not _eval(node["Fn::Not"][0], params, conditions)
    if set(node) == {"Fn::Equals"}:
        a, b = _eval(node["Fn::Equals"], params, conditions)
        return str(a) == str(b)
    return {k: _eval(v, params, conditions) for k, v in node.items()}


def _deployed(cfn, **overrides) -> tuple[dict, dict]:
    """(parameters with pseudo parameters, conditions) of a stack deployed with ``overrides``."""
    params = {**_defaults(cfn), **_PSEUDO, "AWS::StackName": "ocr",
              "AWS::StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/ocr/"
                              "1c2fa620-982a-11e3-aff7-50e2416294e0", **overrides}
    conditions = {name: _eval(expr, params) for name, expr in cfn["Conditions"].items()}
    return params, conditions


def _reserved(cfn, function: str, **overrides):
    params, conditions = _deployed(cfn, **overrides)
    value = _eval(cfn["Resources"][function]["Properties"].get("ReservedConcurrentExecutions"), params, conditions)
    return None if value in (None, {"Ref": "AWS::NoValue"}) else int(value)


def test_api_function_reserves_concurrency_below_what_the_stage_could_ask(cfn):
    params, _ = _deployed(cfn)
    reserved = _reserved(cfn, "ApiFunction")
    # Without a reservation, ThrottleRate x ApiTimeout requests could be in flight at once.
    assert reserved is not None and 0 < reserved < int(params["ThrottleRate"]) * int(params["ApiTimeout"])
    assert reserved >= int(params["ThrottleRate"])  # a second a request at the stage's steady rate
    assert _reserved(cfn, "ApiFunction", ApiReservedConcurrency=7) == 7
    assert _reserved(cfn, "ApiFunction", ApiReservedConcurrency=0) is None  # 0: accounts that cannot reserve
    assert cfn["Parameters"]["ApiReservedConcurrency"]["MinValue"] == 0


def test_s3_function_is_capped_by_default(cfn):
    capped = _reserved(cfn, "S3OcrFunction")
    assert capped is not None and capped > 0
    assert _reserved(cfn, "S3OcrFunction", S3MaxConcurrency=3) == 3
    assert _reserved(cfn, "S3OcrFunction", S3MaxConcurrency=0) is None
    # Both defaults together still leave the unreserved pool Lambda insists on.
    assert capped + _reserved(cfn, "ApiFunction") <= ACCOUNT_CONCURRENCY - UNRESERVED_MINIMUM


def test_noncurrent_versions_expire(cfn):
    params, _ = _deployed(cfn)
    bucket = cfn["Resources"]["DropBucket"]["Properties"]
    assert bucket["VersioningConfiguration"]["Status"] == "Enabled"
    rules = [r for r in bucket["LifecycleConfiguration"]["Rules"] if r["Status"] == "Enabled"]
    days = [int(_eval(r["NoncurrentVersionExpiration"]["NoncurrentDays"], params))
            for r in rules if "NoncurrentVersionExpiration" in r and "Prefix" not in r and "Filter" not in r]
    assert days and 1 <= min(days) <= 90  # every object, not a prefix of them
    assert int(_eval(rules[0]["NoncurrentVersionExpiration"]["NoncurrentDays"],
                     _deployed(cfn, NoncurrentVersionDays=5)[0])) == 5


_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")  # S3 naming rules (no dots: TLS)


@pytest.mark.parametrize("stack_name", [
    "ocr", "OCR-Prod", "My-Very-Long-OCR-Stack-" + "X" * 105,  # 128, the longest a stack name may be
    "a", "A1-B2-c3",
])
def test_bucket_name_is_valid_for_any_stack_name(cfn, stack_name):
    assert len(stack_name) <= 128
    stack_id = f"arn:aws:cloudformation:ap-southeast-2:123456789012:stack/{stack_name}/" \
               "0a1b2c3d-4e5f-11ef-9a8b-0123456789ab"
    params, _ = _deployed(cfn, **{"AWS::StackName": stack_name, "AWS::StackId": stack_id})
    name = _eval(cfn["Resources"]["DropBucket"]["Properties"]["BucketName"], params)
    assert _BUCKET_NAME.match(name) and len(name) <= 63, name
    assert not name.startswith(("xn--", "sthree-")) and not name.endswith(("-s3alias", "--ol-s3")) and "--" not in name
    # The S3 function's policy names the same bucket (by name: a Ref would close a cycle).
    resources = {_eval(s["Resource"], params) for s in _statements(cfn, "S3OcrFunctionRole")
                 if "s3:PutObject" in s["Action"] or "s3:GetObject" in s["Action"]}
    assert resources == {f"arn:aws:s3:::{name}/*", f"arn:aws:s3:::{name}/*.ocr.json"}


def test_bucket_names_differ_between_stacks_of_one_account(cfn):
    def name(uuid: str) -> str:
        stack_id = f"arn:aws:cloudformation:us-east-1:123456789012:stack/ocr/{uuid}"
        params, _ = _deployed(cfn, **{"AWS::StackId": stack_id})
        return _eval(cfn["Resources"]["DropBucket"]["Properties"]["BucketName"], params)

    assert name("1c2fa620-982a-11e3-aff7-50e2416294e0") != name("1c2fa620-982a-11e3-aff7-50e2416294e1")


def _alarms(cfn) -> list[dict]:
    return [r["Properties"] for r in cfn["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]


def test_alarm_on_api_5xx(cfn):
    alarms = [a for a in _alarms(cfn) if a["Namespace"] == "AWS/ApiGateway" and a["MetricName"] == "5xx"]
    assert len(alarms) == 1
    alarm = alarms[0]
    assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == {"ApiId": {"Ref": "HttpApi"}, "Stage": "$default"}
    assert cfn["Resources"]["ApiStage"]["Properties"]["StageName"] == "$default"
    assert alarm["Statistic"] == "Sum" and alarm["Threshold"] == 1
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


@pytest.mark.parametrize("function", ["ApiFunction", "S3OcrFunction"])
def test_alarm_on_lambda_throttles_of_each_function(cfn, function):
    alarms = [a for a in _alarms(cfn) if a["Namespace"] == "AWS/Lambda" and a["MetricName"] == "Throttles"
              and a["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function}}]]
    assert len(alarms) == 1
    alarm = alarms[0]
    assert alarm["Statistic"] == "Sum" and alarm["Threshold"] >= 1
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_memory_floor_leaves_room_for_the_peak_of_one_image(cfn):
    memory = cfn["Parameters"]["MemorySize"]
    assert memory["MinValue"] >= 1024  # an accepted image peaks near 600 MB, plus runtime and model
    assert memory["MinValue"] <= memory["Default"] <= memory["MaxValue"] <= 10240
    assert "600 MB" in " ".join(memory["Description"].split())


def test_api_upload_limit_fits_a_lambda_event(sam):
    from ocr_engine.config import DEFAULT_MAX_IMAGE_BYTES, LAMBDA_PAYLOAD_LIMIT

    env = sam["Resources"]["ApiFunction"]["Properties"].get("Environment", {}).get("Variables", {})
    limit = int(env.get("OCR_MAX_IMAGE_BYTES", DEFAULT_MAX_IMAGE_BYTES))
    # Worst case: base64 image inside JSON, base64-encoded again by API Gateway (16/9),
    # plus 64 KiB for the JSON keys, headers and request context.
    assert -(-limit * 16 // 9) + 64 * 1024 <= LAMBDA_PAYLOAD_LIMIT
    s3_env = sam["Resources"]["S3OcrFunction"]["Properties"]["Environment"]["Variables"]
    assert int(s3_env["OCR_MAX_IMAGE_BYTES"]) >= limit  # the bucket path has no event limit


def test_stateful_resources_say_what_happens_on_delete(cfn):
    for name in ("ApiAccessLogs", "FailureQueue", "ApiLogs", "S3OcrLogs", "BulkOcrLogs"):
        res = cfn["Resources"][name]
        assert res["DeletionPolicy"] in ("Retain", "Delete") and res["UpdateReplacePolicy"] == res["DeletionPolicy"]


def test_sam_delete_keeps_the_bucket_of_the_users_images(cfn):
    """A bucket that is not empty cannot be deleted: without Retain `sam delete` ends in
    DELETE_FAILED, and the images and results are the users' to keep or empty."""
    bucket = cfn["Resources"]["DropBucket"]
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"


@pytest.mark.parametrize("which", ["sam", "translated"])
def test_cfn_lint_passes_with_informational_rules(cfn, tmp_path, which):
    from cfnlint.api import ManualArgs, lint_file

    path = REPO / "template.yaml"
    if which == "translated":  # what cfn-lint misses in SAM: cycles, translated properties
        path = tmp_path / "translated.json"
        path.write_text(json.dumps(cfn))
    matches = lint_file(path, config=ManualArgs(include_checks=["I"]))
    assert not matches, "\n".join(str(m) for m in matches)


# -- bulk OCR on Step Functions (issue 15) -------------------------------------------------
DEFINITION = REPO / "infra" / "bulk_ocr.asl.json"
_EXAMPLE_SUBSTITUTIONS = {"BucketName": "ocr-drop-123456789012-50e2416294e0", "BatchSize": "10",
                          "BulkFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:bulk",
                          "MaxConcurrency": "100", "ToleratedFailurePercentage": "5"}


def _definition() -> dict:
    return json.loads(DEFINITION.read_text())


def test_bulk_state_machine_is_a_distributed_map_over_an_s3_listing(sam):
    props = sam["Resources"]["BulkOcrStateMachine"]["Properties"]
    assert props["Type"] == "STANDARD" and (REPO / props["DefinitionUri"]) == DEFINITION
    subs = props["DefinitionSubstitutions"]
    assert subs["BucketName"] == {"Ref": "DropBucket"}
    assert subs["BulkFunctionArn"] == {"Fn::GetAtt": ["BulkOcrFunction", "Arn"]}
    assert {k: subs[k] for k in ("BatchSize", "MaxConcurrency", "ToleratedFailurePercentage")} == {
        "BatchSize": {"Ref": "BulkBatchSize"}, "MaxConcurrency": {"Ref": "BulkMaxConcurrency"},
        "ToleratedFailurePercentage": {"Ref": "BulkToleratedFailurePercentage"}}
    states = _definition()["States"]
    settings, ocr = states["Settings"]["Parameters"], states["OcrObjects"]
    assert ocr["Type"] == "Map" and ocr["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert ocr["ItemReader"] == {"Resource": "arn:aws:states:::s3:listObjectsV2",
                                 "Parameters": {"Bucket": "${BucketName}", "Prefix.$": "$.prefix"}}
    # Each *Path reads the number the Settings state made of a template parameter.
    for field, placeholder in (("MaxConcurrencyPath", "MaxConcurrency"),
                               ("ToleratedFailurePercentagePath", "ToleratedFailurePercentage")):
        assert settings[ocr[field].removeprefix("$.") + ".$"] == f"States.StringToJson('${{{placeholder}}}')"
    assert settings[ocr["ItemBatcher"]["MaxItemsPerBatchPath"].removeprefix("$.") + ".$"] == \
        "States.StringToJson('${BatchSize}')"
    assert ocr["ResultWriter"]["Resource"] == "arn:aws:states:::s3:putObject"
    assert ocr["ResultWriter"]["Parameters"]["Bucket"] == "${BucketName}"
    task = ocr["ItemProcessor"]["States"]["OcrBatch"]
    assert task["Parameters"]["FunctionName"] == "${BulkFunctionArn}"
    assert any("BatchFailed" in r["ErrorEquals"] for r in task["Retry"])  # the bulk handler's own error


def test_a_batch_fits_the_bulk_function_timeout(sam):
    from ocr_engine.config import load_settings

    batch = sam["Parameters"]["BulkBatchSize"]
    allowed = [n for n in range(0, 1001) if re.fullmatch(batch["AllowedPattern"], str(n))]
    timeout = sam["Resources"]["BulkOcrFunction"]["Properties"]["Timeout"]
    # Every image of the largest batch stopped at the engine's deadline still finishes in time.
    assert allowed == list(range(1, 41)) and batch["Default"] == "10"
    assert max(allowed) * load_settings().request_deadline_s <= timeout <= 900
    assert sam["Parameters"]["BulkToleratedFailurePercentage"]["MaxValue"] == 100


def test_the_definition_passes_the_state_machine_schema(tmp_path):
    from cfnlint.api import ManualArgs, lint_file

    template = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"Machine": {
        "Type": "AWS::StepFunctions::StateMachine",
        "Properties": {"RoleArn": "arn:aws:iam::123456789012:role/bulk", "Definition": _definition(),
                       "DefinitionSubstitutions": _EXAMPLE_SUBSTITUTIONS}}}}
    path = tmp_path / "machine.json"
    path.write_text(json.dumps(template))
    matches = lint_file(path, config=ManualArgs(include_checks=["I"]))  # E3601: the ASL's schema
    assert not matches, "\n".join(str(m) for m in matches)


def _actions(stmt: dict) -> list[str]:
    return [stmt["Action"]] if isinstance(stmt["Action"], str) else stmt["Action"]


BULK_FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:ocr-BulkOcrFunction-x"


def _resources(stmt: dict, params: dict) -> set[str]:
    """The statement's resources in a deployed stack (the bulk function at BULK_FUNCTION_ARN)."""
    res = stmt["Resource"] if isinstance(stmt["Resource"], list) else [stmt["Resource"]]
    scope = {**params, "BulkOcrFunction.Arn": BULK_FUNCTION_ARN}
    return {BULK_FUNCTION_ARN if r == {"Fn::GetAtt": ["BulkOcrFunction", "Arn"]} else _eval(r, scope) for r in res}


def test_bulk_state_machine_role_is_least_privilege(cfn):
    params, _ = _deployed(cfn)
    bucket = _eval(cfn["Resources"]["DropBucket"]["Properties"]["BucketName"], params)
    name = _eval(cfn["Resources"]["BulkOcrStateMachine"]["Properties"]["StateMachineName"], params)
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,80}", name)
    prefix = _definition()["States"]["OcrObjects"]["ResultWriter"]["Parameters"]["Prefix"]
    granted = {}
    for stmt in _statements(cfn, "BulkOcrStateMachineRole"):
        assert stmt["Effect"] == "Allow"
        for action in _actions(stmt):
            granted.setdefault(action, set()).update(_resources(stmt, params))
    arn = "arn:aws:states:us-east-1:123456789012"
    assert granted == {
        "lambda:InvokeFunction": {BULK_FUNCTION_ARN, BULK_FUNCTION_ARN + ":*"},  # the bulk function only
        "s3:ListBucket": {f"arn:aws:s3:::{bucket}"},
        **{a: {f"arn:aws:s3:::{bucket}/{prefix}/*"} for a in (
            "s3:PutObject", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload")},
        "states:StartExecution": {f"{arn}:stateMachine:{name}"},
        "states:DescribeExecution": {f"{arn}:execution:{name}/*"},
        "states:StopExecution": {f"{arn}:execution:{name}/*"},
    }


def test_bulk_function_reads_the_bucket_and_writes_only_results_and_summaries(cfn):
    params, _ = _deployed(cfn)
    bucket = _eval(cfn["Resources"]["DropBucket"]["Properties"]["BucketName"], params)
    granted = {}
    for stmt in _statements(cfn, "BulkOcrFunctionRole"):
        for action in _actions(stmt):
            granted.setdefault(action, set()).update(_resources(stmt, params))
    prefix = _definition()["States"]["OcrObjects"]["ResultWriter"]["Parameters"]["Prefix"]
    assert granted["s3:PutObject"] == {f"arn:aws:s3:::{bucket}/*.ocr.json",
                                       f"arn:aws:s3:::{bucket}/{prefix}/*/summary.json"}
    assert granted["s3:ListBucket"] == {f"arn:aws:s3:::{bucket}"}  # a missing result is a 404, not a 403
    assert set(granted) == {"s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:ListBucket"}


def test_failed_bulk_runs_alarm_and_the_state_machine_is_an_output(cfn):
    alarm = cfn["Resources"]["BulkFailedAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/States", "ExecutionsFailed")
    assert alarm["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Ref": "BulkOcrStateMachine"}}]
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}] and alarm["Threshold"] == 1
    assert cfn["Outputs"]["BulkStateMachineArn"]["Value"] == {"Ref": "BulkOcrStateMachine"}
    assert cfn["Resources"]["BulkOcrStateMachine"]["Properties"]["TracingConfiguration"] == {"Enabled": True}


def test_architecture_is_a_parameter_of_every_function(sam, cfn):
    param = sam["Parameters"]["Architecture"]
    assert param["AllowedValues"] == ["x86_64", "arm64"] and param["Default"] == "x86_64"
    assert sam["Globals"]["Function"]["Architectures"] == [{"Ref": "Architecture"}]
    functions = [r for r in cfn["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    assert len(functions) == 3 and all(f["Properties"]["Architectures"] == [{"Ref": "Architecture"}]
                                       for f in functions)


def _overrides_seen_by(config: dict, command: str) -> dict[str, str]:
    """The parameter overrides ``sam <command>`` reads from samconfig.toml: the command's own
    section wins over the global one."""
    section = config["default"].get(command, {}).get("parameters", {})
    text = section.get("parameter_overrides", config["default"]["global"]["parameters"].get("parameter_overrides", ""))
    return dict(item.split("=", 1) for item in text.split())


def test_sam_build_and_deploy_read_the_same_parameters(sam):
    """sam build makes the image for its Architecture; deploy must give the functions the same
    one, or an x86_64 image meets arm64 functions and every invoke fails."""
    import tomllib

    config = tomllib.loads((REPO / "samconfig.toml").read_text())
    build, deploy = _overrides_seen_by(config, "build"), _overrides_seen_by(config, "deploy")
    assert build == deploy and "Architecture" in build
    assert set(build) <= set(sam["Parameters"])
    assert build["Architecture"] in sam["Parameters"]["Architecture"]["AllowedValues"]


# An image function with neither ImageUri nor build Metadata: cfn-lint passes it, the SAM
# translator (plain `sam validate`) refuses it, as `sam build` and `sam deploy` would.
_UNTRANSLATABLE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
"""
SAM_CLI = REPO / ".venv-sam" / "bin" / "sam"


def _make_validate_commands() -> list[str]:
    """The recipe of the Makefile's ``validate`` target, a shell line each."""
    recipe = re.search(r"^validate:.*\n((?:\t.*\n)+)", (REPO / "Makefile").read_text(), flags=re.MULTILINE)
    assert recipe, "no validate target in the Makefile"
    return [line.strip() for line in recipe.group(1).splitlines()]


def test_samconfig_leaves_plain_sam_validate_to_the_sam_translator():
    """What the next test runs sam for, read from samconfig.toml itself, so that CI checks it
    too (`make test` creates no .venv-sam: the next test is skipped there). sam reads a command's
    options from [ENV.validate.parameters] and [ENV.global.parameters]: `lint = true` in either
    turns `sam validate` into `sam validate --lint`, and the translator never runs."""
    config = tomllib.loads((REPO / "samconfig.toml").read_text())
    environments = {name: env for name, env in config.items() if isinstance(env, dict)}
    assert "default" in environments
    for name, env in environments.items():
        for command in ("validate", "global"):
            assert not env.get(command, {}).get("parameters", {}).get("lint"), f"[{name}.{command}.parameters] lint"


@pytest.mark.skipif(not SAM_CLI.exists(), reason="no .venv-sam (make validate creates it)")
def test_make_validate_runs_the_sam_translator_too(tmp_path):
    """`make validate` runs `sam validate` (the translator) and `sam validate --lint` (cfn-lint), in
    a folder with the repository's samconfig.toml: a `lint = true` there turns the first into
    the second, and what only the translator sees (a missing ImageUri) passes unnoticed."""
    (tmp_path / "samconfig.toml").write_text((REPO / "samconfig.toml").read_text())
    (tmp_path / "template.yaml").write_text(_UNTRANSLATABLE)
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "us-east-1"}
    outcomes = []
    for command in _make_validate_commands():
        command = command.replace(".venv-sam/bin/sam", str(SAM_CLI))
        proc = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=180, check=False)
        outcomes.append((command, proc.returncode, proc.stdout + proc.stderr))
    assert any(rc != 0 and "ImageUri" in out for _, rc, out in outcomes), outcomes
