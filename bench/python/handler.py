"""The benchmark's baseline: lever-candidate-stage-change's intake path written in Python + boto3,
as one would write it for Lambda's Python runtime (run here under ``awslambdaric``).

It does what the Rust function does for a Candidate Stage Change delivery:

1. parse the API Gateway HTTP API (payload 2.0) event and the delivery in its body;
2. read the tenant's configuration (DynamoDB, cached 60 s) and secret (Secrets Manager,
   cached 300 s), as the Rust function's caches do;
3. verify the Lever signature: HMAC-SHA256, hex, of ``token + triggeredAt`` keyed by the
   stored signature token (current, then previous), compared in constant time, and
   ``triggeredAt`` inside the freshness window;
4. decide which integrations the stage concerns (the vendors ordered on a stage change whose
   trigger stage is the one moved into);
5. claim the delivery token with one conditional put, as the Rust intake's
   ``record_delivery`` does (a replay is acknowledged as a duplicate);
6. answer 200 ``{"status": "ignored"}``.

Only the path the benchmark measures is written out: a delivery into a trigger stage (which
the Rust function queues for the worker) is answered 501. The three boto3 clients, SQS's
included, are built at import, as the Rust function builds its three SDK clients before
asking for its first event; nothing is fetched until the first event.
"""

import base64
import hashlib
import hmac
import json
import logging
import os
import time

import boto3
from boto3.dynamodb.types import TypeDeserializer

TABLE = os.environ["TABLE_NAME"]
SECRETS_PREFIX = os.environ["SECRETS_PREFIX"]
EVENT = "candidateStageChange"
MAX_AGE_MS = int(os.environ.get("LEVER_WEBHOOK_MAX_AGE_SECS", 72 * 3600)) * 1000
MAX_FUTURE_MS = 5 * 60 * 1000
# A delivery token is remembered at least as long as the freshness window, plus an hour.
DELIVERY_MEMORY_S = (MAX_AGE_MS + MAX_FUTURE_MS) // 1000 + 3600
SECRETS_TTL_S = int(os.environ.get("SECRETS_TTL_SECS", 300))
TENANT_TTL_S = int(os.environ.get("TENANT_TTL_SECS", 60))
MAX_BODY_BYTES = 256 * 1024
# The vendors ordered when a candidate moves into their trigger stage.
STAGE_CHANGE_VENDORS = frozenset({"xref", "sterling", "justifacts", "esr"})

dynamodb = boto3.client("dynamodb")
secretsmanager = boto3.client("secretsmanager")
sqs = boto3.client("sqs")  # noqa: F841 (built for parity, see above)
_deserialize = TypeDeserializer().deserialize
_cache = {}
logger = logging.getLogger()
logger.setLevel(logging.INFO)


def _cached(key, ttl_s, load):
    now = time.monotonic()
    hit = _cache.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    value = load()
    _cache[key] = (now + ttl_s, value)
    return value


def _tenant_config(tenant_id):
    def load():
        item = dynamodb.get_item(
            TableName=TABLE, Key={"pk": {"S": "TENANT"}, "sk": {"S": tenant_id}}
        ).get("Item")
        return None if item is None else {k: _deserialize(v) for k, v in item.items()}

    return _cached(("tenant", tenant_id), TENANT_TTL_S, load)


def _tenant_secret(tenant_id):
    def load():
        value = secretsmanager.get_secret_value(SecretId=SECRETS_PREFIX + tenant_id)
        return json.loads(value["SecretString"])

    return _cached(("secret", tenant_id), SECRETS_TTL_S, load)


def _answer(status, body):
    if status < 400:
        logger.info("answered", extra={"status": status, "outcome": body.get("status")})
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body),
    }


def _error(status, code, message):
    logger.warning("request refused", extra={"status": status, "code": code})
    return _answer(status, {"error": {"code": code, "message": message}})


def _signature_ok(delivery, tokens):
    signature = delivery.get("signature") or ""
    try:
        expected = bytes.fromhex(signature.strip())
    except ValueError:
        return False
    message = (delivery["token"] + str(delivery["triggeredAt"])).encode()
    return any(
        hmac.compare_digest(hmac.new(key.encode(), message, hashlib.sha256).digest(), expected)
        for key in tokens
    )


def _record_delivery(key, now_ms):
    """Claims the delivery token; False if it was claimed before (a replay)."""
    now_s = now_ms // 1000
    try:
        dynamodb.put_item(
            TableName=TABLE,
            Item={
                "pk": {"S": "DELIVERY#" + key},
                "sk": {"S": "DELIVERY"},
                "done": {"BOOL": True},
                "claimed_at": {"N": str(now_ms)},
                "expires_at": {"N": str(now_s + DELIVERY_MEMORY_S)},
            },
            ConditionExpression="attribute_not_exists(pk) OR expires_at <= :now",
            ExpressionAttributeValues={":now": {"N": str(now_s)}},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
        return True
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False


def handler(event, context):
    http = event.get("requestContext", {}).get("http", {})
    if http.get("method") != "POST":
        return _error(405, "method_not_allowed", "only POST is accepted")
    content_type = (event.get("headers") or {}).get("content-type", "")
    if content_type.strip('"').split(";")[0].strip().lower() != "application/json":
        return _error(415, "unsupported_media_type", "send application/json")
    body = event.get("body") or ""
    body = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    if len(body) > MAX_BODY_BYTES:
        return _error(413, "payload_too_large", "the body is too large")
    tenant_id = (event.get("pathParameters") or {}).get("tenant")
    try:
        delivery = json.loads(body)
        token, triggered_at = delivery["token"], int(delivery["triggeredAt"])
    except (ValueError, KeyError, TypeError):
        return _error(400, "bad_request", "malformed webhook JSON")

    tenant = _tenant_config(tenant_id) if tenant_id else None
    if tenant is None:
        return _error(404, "not_found", "no such tenant")
    tokens = _tenant_secret(tenant_id).get("webhooks", {}).get(EVENT)
    if not tokens:
        return _error(500, "misconfigured", "no signature token is stored")
    candidates = [tokens["current"]] + ([tokens["previous"]] if tokens.get("previous") else [])
    if not _signature_ok(delivery, candidates):
        return _error(401, "signature", "the signature does not match")
    now_ms = int(time.time() * 1000)
    if now_ms - triggered_at > MAX_AGE_MS or triggered_at - now_ms > MAX_FUTURE_MS:
        return _error(401, "signature", "triggeredAt is outside the accepted window")
    if delivery.get("event") != EVENT:
        return _error(400, "bad_request", "event sent to the wrong endpoint")
    data = delivery.get("data") or {}
    to_stage = data.get("toStageId")
    if not data.get("opportunityId") or not to_stage:
        return _error(400, "bad_request", "candidateStageChange data is incomplete")

    concerned = [
        vendor
        for vendor, integration in (tenant.get("vendors") or {}).items()
        if vendor in STAGE_CHANGE_VENDORS
        and integration.get("enabled")
        and not integration.get("lever_access_revoked")
        and integration.get("trigger_stage") is not None
        and integration["trigger_stage"].get("id") in (None, to_stage)
    ]
    if concerned:
        # Queueing the work (claim, send to SQS, mark done) is not measured: the benchmark
        # sends only deliveries into a stage that triggers nothing.
        return _error(501, "not_implemented", "the baseline covers the non-trigger path only")
    if not _record_delivery("lever:%s:%s" % (tenant_id, token), now_ms):
        return _answer(200, {"status": "duplicate"})
    logger.info("nothing to do for this delivery", extra={"tenant": tenant_id})
    return _answer(200, {"status": "ignored", "detail": "this event concerns no integration"})
