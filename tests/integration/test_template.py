"""template.yaml, translated offline as `sam validate` does, then checked for what matters."""

from __future__ import annotations

import importlib.util
import json

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
    assert set(funcs) == {"ApiFunction", "S3OcrFunction"}
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
    assert json.dumps(actions["s3:PutObject"]["Resource"]).endswith('*.ocr.json"}')
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
    # Only reading routes stay open; every POST (any path) and the stats are guarded.
    assert public == {"GET /", "GET /{proxy+}", "OPTIONS /{proxy+}"}
    for key in ("ANY /{proxy+}", "GET /api/stats"):
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
    import re

    body, variables = sam["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    text = re.sub(r"\$\{([^}]+)\}", lambda m: variables.get(m.group(1), "x"), body)
    widgets = json.loads(text)["widgets"]
    namespace = sam["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
    ours = {m[1] for w in widgets for m in w["properties"]["metrics"] if m[0] == namespace}
    published = set()
    for source in REPO.glob("functions/**/*.py"):
        published |= set(re.findall(r'add_metric\(name="(\w+)"', source.read_text()))
    assert ours == {"ImagesProcessed", "InferenceMs", "Errors"} and ours <= published
