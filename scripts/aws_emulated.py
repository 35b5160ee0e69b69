"""The stack of template.yaml in an AWS emulator, and an IAM gate in front of it.

Used by scripts/emulated-stack (the stack created by moto's CloudFormation, checked against
what the functions expect) and scripts/iam-drill (every function's work with only its own
IAM policy). Runs in .cache/venv (scripts/install-tools): samtranslator (AWS's SAM
translator, as `sam deploy` uses it), boto3 and moto_server.

Why a gate and not moto's own IAM enforcement (INITIAL_NO_AUTH_ACTION_COUNT): moto checks
the action of every request but the resource only for SQS (and IAM/STS); a DynamoDB or
Secrets Manager request is checked against resource "*", so a statement naming a table, an
index or a secret never matches, and transactions are checked as one action
(TransactWriteItems) where AWS authorises each item (PutItem, UpdateItem, ...). The gate
evaluates the statements itself, as IAM does for identity policies: an explicit Deny wins,
else some Allow must match the action and the resource (wildcards `*` and `?`); then it
forwards the request unchanged to moto.
"""

from __future__ import annotations

import copy
import fnmatch
import io
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".cache" / "venv"
REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
PARTITION = "aws"
CODE_BUCKET = "lever-screening-code"
CODE_KEY = "bootstrap.zip"


# ------------------------------------------------------------------ moto_server

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Moto:
    """moto_server on a free loopback port, logging to .cache/logs/, stopped by stop()."""

    def __init__(self) -> None:
        logs = REPO / ".cache" / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = logs / f"moto-emulated-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self.proc = subprocess.Popen(
            [str(VENV / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)],
            stdin=subprocess.DEVNULL, stdout=open(self.log, "w"), stderr=subprocess.STDOUT, env=env,
        )
        deadline = time.time() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"moto_server exited; see {self.log}")
            try:
                urllib.request.urlopen(self.url + "/moto-api/", timeout=2).read()
                return
            except (urllib.error.URLError, ConnectionError):
                if time.time() > deadline:
                    self.stop()
                    raise RuntimeError(f"moto_server did not answer within 60 s; see {self.log}")
                time.sleep(0.3)

    def client(self, service: str):
        import boto3

        return boto3.client(
            service, endpoint_url=self.url, region_name=REGION,
            aws_access_key_id="operator", aws_secret_access_key="operator",
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


# ------------------------------------------------------------------ translation

def load_template(path: Path) -> dict:
    """template.yaml as a dict, short intrinsics (!Ref, !Sub) in their long form."""
    from samtranslator.yaml_helper import yaml_parse

    return yaml_parse(Path(path).read_text())


def translate(template: dict) -> dict:
    """The SAM template as CloudFormation, as `sam deploy` hands it over: the functions'
    code in S3 (where `sam package` puts it), then AWS's SAM translator."""
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    from samtranslator.translator.transform import transform

    template = copy.deepcopy(template)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = f"s3://{CODE_BUCKET}/{CODE_KEY}"

    class NoManagedPolicies:  # policies are named by ARN in the template; nothing to look up
        def load(self):
            return {}

    return transform(template, {}, NoManagedPolicies())


# ------------------------------------------------------------------ the stack

@dataclass
class Stack:
    name: str
    cfn: dict
    status: str
    reason: str | None
    physical: dict  # logical id -> physical id, for what the emulator created
    types: dict  # logical id -> resource type, for what the emulator created
    attrs: dict = field(default_factory=dict)  # (logical id, attribute) -> value


def create_stack(moto: Moto, cfn: dict, name: str = "lever-screening") -> Stack:
    """Uploads a placeholder for the functions' code (the emulator runs none) and creates the
    stack with CloudFormation's CreateStack."""
    s3 = moto.client("s3")
    s3.create_bucket(Bucket=CODE_BUCKET)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("bootstrap", "#!/bin/sh\necho placeholder: the emulator runs no code\nexit 1\n")
    s3.put_object(Bucket=CODE_BUCKET, Key=CODE_KEY, Body=buf.getvalue())
    cf = moto.client("cloudformation")
    cf.create_stack(StackName=name, TemplateBody=json.dumps(cfn), Capabilities=["CAPABILITY_IAM"])
    deadline = time.time() + 120
    while True:
        described = cf.describe_stacks(StackName=name)["Stacks"][0]
        if not described["StackStatus"].endswith("IN_PROGRESS") or time.time() > deadline:
            break
        time.sleep(0.5)
    physical, types = {}, {}
    for r in cf.list_stack_resources(StackName=name)["StackResourceSummaries"]:
        if r.get("LogicalResourceId"):
            physical[r["LogicalResourceId"]] = r.get("PhysicalResourceId")
            types[r["LogicalResourceId"]] = r["ResourceType"]
    stack = Stack(name, cfn, described["StackStatus"], described.get("StackStatusReason"), physical, types)
    _fill_attributes(moto, stack)
    return stack


def _fill_attributes(moto: Moto, stack: Stack) -> None:
    """The attributes the template reads (Fn::GetAtt), from the emulator's resources."""
    sqs, ddb = moto.client("sqs"), moto.client("dynamodb")
    for logical, kind in stack.types.items():
        phys = stack.physical[logical]
        if kind == "AWS::SQS::Queue":
            name = phys.rsplit("/", 1)[-1]
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            stack.attrs[(logical, "Arn")] = arn
            stack.attrs[(logical, "QueueName")] = name
            stack.attrs[(logical, "QueueUrl")] = url
            stack.physical[logical] = url  # Ref: the URL, as the functions' SDK reaches it here
        elif kind == "AWS::DynamoDB::Table":
            stack.attrs[(logical, "Arn")] = ddb.describe_table(TableName=phys)["Table"]["TableArn"]
        elif kind in ("AWS::IAM::Role",):
            stack.attrs[(logical, "Arn")] = f"arn:{PARTITION}:iam::{ACCOUNT}:role/{phys}"
        elif kind == "AWS::Lambda::Function":
            stack.attrs[(logical, "Arn")] = f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:{phys}"
        elif kind == "AWS::Logs::LogGroup":
            stack.attrs[(logical, "Arn")] = f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT}:log-group:{phys}:*"


class Unresolved(Exception):
    pass


def parameter_defaults(cfn: dict) -> dict:
    return {k: str(v.get("Default", "")) for k, v in cfn.get("Parameters", {}).items()}


def resolve(value, stack: Stack, parameters: dict | None = None):
    """CloudFormation's intrinsic functions on `value`, with this stack's resources and the
    parameters' defaults (or `parameters`)."""
    params = dict(parameter_defaults(stack.cfn))
    params.update(parameters or {})
    pseudo = {
        "AWS::Partition": PARTITION, "AWS::Region": REGION, "AWS::AccountId": ACCOUNT,
        "AWS::StackName": stack.name, "AWS::URLSuffix": "amazonaws.com", "AWS::NoValue": None,
    }

    def ref(name):
        if name in pseudo:
            return pseudo[name]
        if name in params:
            return params[name]
        if name in stack.physical:
            return stack.physical[name]
        raise Unresolved(f"Ref {name}")

    def getatt(logical, attr):
        if (logical, attr) in stack.attrs:
            return stack.attrs[(logical, attr)]
        raise Unresolved(f"GetAtt {logical}.{attr}")

    def condition(name):
        return bool(walk(stack.cfn.get("Conditions", {})[name]))

    def walk(v):
        if isinstance(v, list):
            out = [walk(x) for x in v]
            return [x for x in out if x is not None]
        if not isinstance(v, dict):
            return v
        if len(v) == 1:
            (k, arg), = v.items()
            if k == "Ref":
                return ref(arg)
            if k == "Fn::GetAtt":
                logical, attr = arg if isinstance(arg, list) else arg.split(".", 1)
                return getatt(logical, attr)
            if k == "Fn::Sub":
                text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], walk(arg[1]))

                def sub(m):
                    name = m.group(1)
                    if name in extra:
                        return str(extra[name])
                    if "." in name and name.split(".", 1)[0] not in pseudo and not name.startswith("AWS::"):
                        return str(getatt(*name.split(".", 1)))
                    return str(ref(name))

                return re.sub(r"\$\{([^}!]+)\}", sub, text)
            if k == "Fn::Join":
                return arg[0].join(str(x) for x in walk(arg[1]))
            if k == "Fn::If":
                return walk(arg[1] if condition(arg[0]) else arg[2])
            if k == "Fn::Equals":
                a, b = walk(arg)
                return str(a) == str(b)
            if k == "Fn::Not":
                return not walk(arg[0])
            if k == "Condition":
                return condition(arg)
            if k == "Fn::Select":
                return walk(arg[1])[int(walk(arg[0]))]
            if k == "Fn::GetAZs":
                return [REGION + "a", REGION + "b"]
        out = {k: walk(x) for k, x in v.items()}
        return {k: x for k, x in out.items() if x is not None}  # AWS::NoValue drops the key

    return walk(value)


# ------------------------------------------------------------------ policies

@dataclass
class Statement:
    policy: str  # the template's logical id of the policy, or the AWS managed policy's name
    sid: str  # the statement's Sid, or its position
    doc: dict  # the resolved statement

    @property
    def name(self) -> str:
        return f"{self.policy}.{self.sid}"


def aws_managed_policy(arn: str) -> dict:
    """An AWS managed policy's document, from moto's copy of them."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    name = arn.rsplit("/", 1)[-1]
    data = json.loads(aws_managed_policies_data)
    if name not in data:
        raise Unresolved(f"AWS managed policy {arn} is not in moto's copy")
    return data[name]["Document"]


def function_statements(stack: Stack) -> dict:
    """Each function's identity policy, statement by statement: binary name -> [Statement].
    The role's managed policies (this template's, and AWS's: basic execution, SQS polling)
    and inline policies (SAM's policy templates)."""
    resources = stack.cfn["Resources"]
    out = {}
    for logical, res in resources.items():
        if res["Type"] != "AWS::Lambda::Function":
            continue
        binary = res.get("Metadata", {}).get("BuildProperties", {}).get("Binary", logical)
        role_ref = res["Properties"]["Role"]
        role_logical = role_ref["Fn::GetAtt"][0] if isinstance(role_ref["Fn::GetAtt"], list) else role_ref["Fn::GetAtt"].split(".")[0]
        role = resources[role_logical]["Properties"]
        statements = []
        for arn in role.get("ManagedPolicyArns", []):
            if isinstance(arn, dict) and "Ref" in arn:
                policy = arn["Ref"]
                doc = resolve(resources[policy]["Properties"]["PolicyDocument"], stack)
            else:
                arn = resolve(arn, stack)
                policy = arn.rsplit("/", 1)[-1]
                doc = aws_managed_policy(arn)
            statements += _statements(policy, doc)
        for inline in role.get("Policies", []):
            statements += _statements(f"{role_logical}:{inline['PolicyName']}", resolve(inline["PolicyDocument"], stack))
        out[binary] = statements
    return out


def _statements(policy: str, doc: dict) -> list:
    body = doc["Statement"]
    body = body if isinstance(body, list) else [body]
    return [Statement(policy, s.get("Sid") or str(i), s) for i, s in enumerate(body)]


def _as_list(v):
    return v if isinstance(v, list) else [v]


def _glob(pattern: str, value: str, case_insensitive: bool) -> bool:
    # IAM's wildcards: * any run of characters, ? exactly one; nothing else is special.
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if case_insensitive else 0) is not None


def matches(statement: dict, action: str, resource: str) -> bool:
    if "Condition" in statement:
        raise Unresolved("a statement with a Condition (the gate does not evaluate conditions)")
    if "Action" in statement:
        act = any(_glob(p, action, True) for p in _as_list(statement["Action"]))
    else:
        act = not any(_glob(p, action, True) for p in _as_list(statement["NotAction"]))
    if "Resource" in statement:
        res = any(_glob(p, resource, False) for p in _as_list(statement["Resource"]))
    else:
        res = not any(_glob(p, resource, False) for p in _as_list(statement["NotResource"]))
    return act and res


def evaluate(statements: list, action: str, resource: str):
    """(allowed, the Allow statements that match). An explicit Deny wins."""
    allowing = []
    for s in statements:
        if matches(s.doc, action, resource):
            if s.doc["Effect"] == "Deny":
                return False, []
            allowing.append(s)
    return bool(allowing), allowing


# ------------------------------------------------------------------ the gate

@dataclass
class Call:
    step: str
    function: str
    action: str
    resource: str
    allowed: bool
    allowing: list  # statement names


class Gate:
    """An HTTP endpoint in front of moto for DynamoDB, SQS and Secrets Manager: identifies
    the caller by the access key of its request's signature, works out the IAM action(s) and
    resource(s) of the request, evaluates the caller's statements, and either answers
    AccessDeniedException as the service would or forwards the request to moto. Records
    every (step, function, action, resource, the statements that allowed it).
    `POST /_iam-gate/step` names the step the drill is in."""

    def __init__(self, backend: str, identities: dict, operator_key: str) -> None:
        self.backend = backend.rstrip("/")
        self.identities = identities  # access key id -> (function, [Statement])
        self.operator_key = operator_key
        self.step = "start"
        self.calls: list[Call] = []
        self.lock = threading.Lock()
        self._secret_arns: dict = {}
        gate = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                gate._handle(self)

            do_GET = do_POST

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()

    # -- what a request asks for

    def _secret_arn(self, secret_id: str) -> str:
        if secret_id.startswith("arn:"):
            return secret_id
        if secret_id not in self._secret_arns:
            try:
                arn = _post_json(self.backend, "secretsmanager.DescribeSecret", {"SecretId": secret_id})["ARN"]
            except urllib.error.HTTPError:
                # Not there yet (CreateSecret, or a tenant without one): the ARN it would have.
                return f"arn:{PARTITION}:secretsmanager:{REGION}:{ACCOUNT}:secret:{secret_id}-AbCdEf"
            self._secret_arns[secret_id] = arn
        return self._secret_arns[secret_id]

    def requested(self, target: str, body: dict) -> list:
        """[(action, resource)] that IAM authorises for one request."""
        service, _, op = target.partition(".")
        if service.startswith("DynamoDB_"):
            table = lambda name: f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
            if op == "TransactWriteItems":
                # Authorised per item, by the item's own operation.
                kinds = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                         "ConditionCheck": "ConditionCheckItem"}
                return [(f"dynamodb:{kinds[k]}", table(v["TableName"]))
                        for item in body["TransactItems"] for k, v in item.items()]
            if op == "TransactGetItems":
                return [("dynamodb:GetItem", table(i["Get"]["TableName"])) for i in body["TransactItems"]]
            if op in ("BatchGetItem", "BatchWriteItem"):
                return [(f"dynamodb:{op}", table(name)) for name in body["RequestItems"]]
            if op == "ListTables":
                return [("dynamodb:ListTables", "*")]
            resource = table(body["TableName"])
            if body.get("IndexName"):
                resource += "/index/" + body["IndexName"]
            return [(f"dynamodb:{op}", resource)]
        if service == "AmazonSQS":
            if "QueueUrl" in body:
                name = body["QueueUrl"].rstrip("/").rsplit("/", 1)[-1]
            else:
                name = body.get("QueueName", "*")
            return [(f"sqs:{op}", f"arn:{PARTITION}:sqs:{REGION}:{ACCOUNT}:{name}")]
        if service == "secretsmanager":
            if "SecretId" in body:
                return [(f"secretsmanager:{op}", self._secret_arn(body["SecretId"]))]
            if "Name" in body:
                return [(f"secretsmanager:{op}", self._secret_arn(body["Name"]))]
            return [(f"secretsmanager:{op}", "*")]
        raise Unresolved(f"unknown service operation {target}")

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        if h.path.startswith("/_iam-gate/step"):
            with self.lock:
                self.step = raw.decode()
            return self._answer(h, 200, {"Content-Type": "text/plain"}, b"ok")
        auth = h.headers.get("Authorization", "")
        m = re.search(r"Credential=([^/]+)/", auth)
        key = m.group(1) if m else ""
        target = h.headers.get("X-Amz-Target", "")
        if key != self.operator_key:
            if key not in self.identities:
                return self._deny(h, target, f"unknown access key {key!r}")
            function, statements = self.identities[key]
            try:
                body = json.loads(raw or b"{}")
                wanted = self.requested(target, body)
            except (ValueError, KeyError, Unresolved) as e:
                return self._deny(h, target, f"the gate cannot tell what {target or h.path} needs: {e}")
            for action, resource in wanted:
                allowed, allowing = evaluate(statements, action, resource)
                with self.lock:
                    self.calls.append(Call(self.step, function, action, resource, allowed, [s.name for s in allowing]))
                if not allowed:
                    return self._deny(
                        h, target,
                        f"User: arn:{PARTITION}:sts::{ACCOUNT}:assumed-role/{function}/{function} is not "
                        f"authorized to perform: {action} on resource: {resource} because no "
                        f"identity-based policy allows the {action} action",
                    )
        self._forward(h, raw)

    def _forward(self, h, raw: bytes) -> None:
        headers = {k: v for k, v in h.headers.items() if k.lower() not in ("host", "content-length", "connection")}
        req = urllib.request.Request(self.backend + h.path, data=raw if h.command != "GET" else None,
                                     method=h.command, headers=headers)
        try:
            resp = urllib.request.urlopen(req, timeout=60)
        except urllib.error.HTTPError as e:
            resp = e
        body = resp.read()
        out = {k: v for k, v in resp.headers.items()
               if k.lower() not in ("content-length", "connection", "transfer-encoding", "server", "date")}
        self._answer(h, resp.status if hasattr(resp, "status") else resp.code, out, body)

    def _deny(self, h, target: str, message: str) -> None:
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "iam-gate"}
        if target.startswith("AmazonSQS"):
            # SQS's JSON protocol also names the query-protocol code.
            headers["x-amzn-query-error"] = "AccessDenied;Sender"
        body = json.dumps({"__type": "com.amazon.coral.service#AccessDeniedException", "message": message}).encode()
        self._answer(h, 400, headers, body)

    @staticmethod
    def _answer(h, status: int, headers: dict, body: bytes) -> None:
        h.send_response(status)
        for k, v in headers.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)


def _post_json(url: str, target: str, body: dict) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={
        "X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1",
        "Authorization": f"AWS4-HMAC-SHA256 Credential=operator/20260101/{REGION}/secretsmanager/aws4_request, SignedHeaders=host, Signature=0",
    })
    return json.loads(urllib.request.urlopen(req, timeout=30).read())
