//! What every `/v1` request passes before and after its handler: it is recorded, then
//! refused by an armed fault, a missing credential (401), an empty rate-limit bucket (429)
//! or a random failure (503); a write whose handler ran may still lose its answer to an
//! armed gateway fault.

use super::{LeverSim, LeverState, RecordedCall};
use crate::{json_error, Faults};
use axum::extract::{OriginalUri, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use std::collections::HashMap;
use std::time::Instant;

/// Lever's documented limit: a token bucket per API key, bursts up to 20 requests, refilled
/// at 10 per second (docs/lever.md).
const LEVER_BURST: u32 = 20;
const LEVER_PER_SECOND: u32 = 10;

/// The `/v1` gate's configuration and counters.
#[derive(Debug)]
pub(super) struct Gate {
    /// `fail_next` answers before anything else, `fail_after_applying` once a write ran.
    faults: Faults,
    random_failures: Option<RandomFailures>,
    rate_limit: Option<RateLimit>,
    throttled: usize,
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            faults: Faults::default(),
            random_failures: None,
            rate_limit: Some(RateLimit::new(LEVER_BURST, LEVER_PER_SECOND)),
            throttled: 0,
        }
    }
}

/// Token buckets keyed by credential.
#[derive(Debug)]
struct RateLimit {
    capacity: f64,
    per_second: f64,
    buckets: HashMap<String, Bucket>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    refilled_at: Instant,
}

impl RateLimit {
    fn new(capacity: u32, per_second: u32) -> Self {
        RateLimit {
            capacity: capacity.into(),
            per_second: per_second.into(),
            buckets: HashMap::new(),
        }
    }

    /// Takes a token from the credential's bucket, which starts full; false when empty.
    fn take(&mut self, credential: &str, now: Instant) -> bool {
        let bucket = self.buckets.entry(credential.to_owned()).or_insert(Bucket {
            tokens: self.capacity,
            refilled_at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.refilled_at);
        bucket.tokens =
            (bucket.tokens + elapsed.as_secs_f64() * self.per_second).min(self.capacity);
        bucket.refilled_at = now;
        let admitted = bucket.tokens >= 1.0;
        if admitted {
            bucket.tokens -= 1.0;
        }
        admitted
    }
}

/// Fails each request with probability `p`, from a seeded xorshift64 so runs repeat.
#[derive(Debug)]
struct RandomFailures {
    p: f64,
    state: u64,
}

impl RandomFailures {
    fn new(p: f64, seed: u64) -> Self {
        // Xorshift is stuck at zero, so mix the seed into a non-zero state.
        let state = (seed ^ 0x9E37_79B9_7F4A_7C15).max(1);
        RandomFailures { p, state }
    }

    fn fails(&mut self) -> bool {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        // The top 53 bits as a uniform draw in [0, 1).
        let draw = (self.state >> 11) as f64 / (1u64 << 53) as f64;
        draw < self.p
    }
}

impl LeverSim {
    /// The next `n` `/v1` requests answer `status` before anything else (429 with
    /// `Retry-After: 1`); `n = 0` disarms.
    pub fn fail_next(&self, n: usize, status: u16) {
        self.lock().gate.faults.arm(n, status);
    }

    /// The next `n` `/v1` writes (any method but GET, HEAD, OPTIONS and TRACE) that reach
    /// their handler are applied, then answered `status` instead of the handler's answer,
    /// as when a gateway drops Lever's response; `n = 0` disarms.
    pub fn fail_after_applying(&self, n: usize, status: u16) {
        self.lock().gate.faults.arm_after(n, status);
    }

    /// From now on each authenticated, admitted `/v1` request fails with 503 before being
    /// applied with probability `p`, drawn from a generator seeded with `seed`; `p <= 0`
    /// turns it off.
    pub fn set_failure_rate(&self, p: f64, seed: u64) {
        self.lock().gate.random_failures = (p > 0.0).then(|| RandomFailures::new(p, seed));
    }

    /// `Some((capacity, per_second))`: a token bucket per credential (API key or bearer
    /// token) holding `capacity` tokens and refilled at `per_second`; every bucket starts
    /// full again. `None` turns rate limiting off. On by default with Lever's numbers, 20
    /// and 10.
    pub fn set_rate_limit(&self, limit: Option<(u32, u32)>) {
        self.lock().gate.rate_limit =
            limit.map(|(capacity, per_second)| RateLimit::new(capacity, per_second));
    }

    /// How many `/v1` requests were answered 429 by the rate limit.
    pub fn throttled_count(&self) -> usize {
        self.lock().gate.throttled
    }

    /// Records the request, then answers its refusal if it must not reach its handler.
    fn refusal(&self, request: &Request, path: &str) -> Option<Response> {
        let mut state = self.lock();
        state.calls.push(RecordedCall {
            method: request.method().to_string(),
            path: path.to_owned(),
        });
        if let Some(fault) = state.gate.faults.take() {
            return Some(fault);
        }
        let Some(credential) = state.credential(request.headers()) else {
            return Some(refuse(
                StatusCode::UNAUTHORIZED,
                "UnauthorizedError",
                "Basic auth with the API key as user name, or a Bearer token, is required",
            ));
        };
        if let Some(missing) = state.missing_scope(request, path) {
            return Some(refuse(
                StatusCode::FORBIDDEN,
                "Forbidden",
                &format!("Missing scope {missing}"),
            ));
        }
        if state.refuses_confidential(request.headers(), path) {
            return Some(refuse(
                StatusCode::FORBIDDEN,
                "Forbidden",
                "This opportunity is confidential: the credential has no access to confidential data",
            ));
        }
        let gate = &mut state.gate;
        let now = Instant::now();
        if gate
            .rate_limit
            .as_mut()
            .is_some_and(|limit| !limit.take(&credential, now))
        {
            gate.throttled += 1;
            return Some(refuse(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "rate limit exceeded for this credential",
            ));
        }
        let failed = gate
            .random_failures
            .as_mut()
            .is_some_and(RandomFailures::fails);
        failed.then(|| {
            refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "fault injected by the simulator",
            )
        })
    }
}

fn refuse(status: StatusCode, code: &'static str, message: &str) -> Response {
    json_error(status, code, message).into_response()
}

/// The OAuth scope Lever requires of an authorized app for a request: the resource's
/// `:read:admin` scope for a read, `:write:admin` for a change (notes, opportunities and
/// their tags and stage, webhooks); postings and stages are read-only here. API keys carry
/// no scopes: their permissions are the key's.
fn required_scope(method: &axum::http::Method, path: &str) -> Option<String> {
    let mut segments = path.trim_start_matches('/').split('/').skip(1);
    let resource = match (segments.next()?, segments.nth(1)) {
        ("opportunities", Some("notes")) => "notes",
        ("opportunities", _) => "opportunities",
        ("postings", _) => "postings",
        ("stages", _) => "stages",
        ("webhooks", _) => "webhooks",
        _ => return None,
    };
    let access = if method.is_safe() { "read" } else { "write" };
    Some(format!("{resource}:{access}:admin"))
}

impl LeverState {
    /// The scope an OAuth bearer token lacks for this request, if any.
    fn missing_scope(&self, request: &Request, path: &str) -> Option<String> {
        let token = request
            .headers()
            .get(header::AUTHORIZATION)?
            .to_str()
            .ok()?
            .strip_prefix("Bearer ")?;
        if !self.oauth.accepts(token) {
            return None;
        }
        required_scope(request.method(), path).filter(|scope| !self.oauth.has_scope(token, scope))
    }

    /// Whether the request names a confidential opportunity (`/v1/opportunities/:id` and
    /// what is under it) with a credential that has no access to confidential data.
    fn refuses_confidential(&self, headers: &HeaderMap, path: &str) -> bool {
        let mut segments = path.trim_start_matches('/').split('/').skip(1);
        let (Some("opportunities"), Some(id)) = (segments.next(), segments.next()) else {
            return false;
        };
        if !self.confidential.contains(id) {
            return false;
        }
        let Some(value) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return true;
        };
        let allowed = match value.strip_prefix("Bearer ") {
            Some(token) if self.oauth.accepts(token) => {
                self.oauth.has_scope(token, "confidential:access:admin")
            }
            // The fixed bearer token stands for a fully authorized tenant.
            Some(token) => self.bearer_token.as_deref() == Some(token),
            None => basic_key_in(value, &self.confidential_keys),
        };
        !allowed
    }

    /// The request's `Authorization` value when it names the API key (Basic, blank
    /// password) or an accepted bearer token: the key of its rate-limit bucket.
    fn credential(&self, headers: &HeaderMap) -> Option<String> {
        let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
        let accepted = match value.strip_prefix("Bearer ") {
            Some(token) => self.bearer_token.as_deref() == Some(token) || self.oauth.accepts(token),
            None => basic_key_in(value, &self.api_keys),
        };
        accepted.then(|| value.to_owned())
    }
}

/// Whether `value` is Basic auth naming one of `keys` as user name with a blank password.
fn basic_key_in<'k>(value: &str, keys: impl IntoIterator<Item = &'k String>) -> bool {
    value
        .strip_prefix("Basic ")
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .is_some_and(|user_pass| {
            keys.into_iter()
                .any(|key| user_pass == format!("{key}:").as_bytes())
        })
}

/// The `/v1` middleware.
pub(super) async fn gate(
    State(sim): State<LeverSim>,
    OriginalUri(uri): OriginalUri,
    request: Request,
    next: Next,
) -> Response {
    if let Some(refusal) = sim.refusal(&request, uri.path()) {
        return refusal;
    }
    let write = !request.method().is_safe();
    let response = next.run(request).await;
    let lost = write.then(|| sim.lock().gate.faults.take_after()).flatten();
    lost.unwrap_or(response)
}
