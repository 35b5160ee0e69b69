//! `vendor conformance`: the vendor contract's suite, run against any implementation of it
//! (a vendor's API, a customer's adapter in front of one, or this repo's simulators).
//!
//! The contract is `docs/vendor-contract.openapi.json` (OpenAPI 3.1), compiled into this
//! binary: the suite takes each vendor's paths, its create example and its schemas from it,
//! and checks every answer against the schema the document gives for it. What it does to
//! the account: it checks the credential, creates one order (and, for vendors that can
//! cancel, cancels it). Run it against a test account.

use lever_screening::vendors::VendorId;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{json, Value};
use std::sync::OnceLock;
use std::time::Duration;

/// The contract, as published in the repository.
pub const CONTRACT: &str = include_str!("../../docs/vendor-contract.openapi.json");

/// A callback URL no vendor can reach, for the conformance order: the suite checks the
/// create and read paths, and a conforming vendor only calls back on a status change.
const CALLBACK_URL: &str = "https://example.com/lever-screening-conformance";

/// The parsed contract document, or why it does not parse (compiled in, so only an edit of
/// the document that its tests would catch can make it fail).
pub fn contract() -> Result<&'static Value, String> {
    static DOCUMENT: OnceLock<Result<Value, String>> = OnceLock::new();
    DOCUMENT
        .get_or_init(|| {
            serde_json::from_str(CONTRACT)
                .map_err(|e| format!("docs/vendor-contract.openapi.json is not JSON: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Checks `value` against the contract's schema `#/components/schemas/{name}`; the
/// problems found, as "`<path>`: <why>", none when it conforms.
pub fn violations(name: &str, value: &Value) -> Vec<String> {
    let mut schema = match contract() {
        Ok(document) => document.clone(),
        Err(problem) => return vec![problem],
    };
    // The whole document is the schema resource, so `#/components/schemas/…` references
    // resolve; the keywords of OpenAPI itself are unknown to JSON Schema and ignored.
    schema["$ref"] = json!(format!("#/components/schemas/{name}"));
    match jsonschema::draft202012::new(&schema) {
        Ok(validator) => validator
            .iter_errors(value)
            .map(|error| format!("`{}`: {error}", error.instance_path()))
            .collect(),
        Err(error) => vec![format!(
            "the contract's schema {name} does not compile: {error}"
        )],
    }
}

/// How a contract vendor's API authenticates, with the credential given.
#[derive(Debug, Clone)]
pub enum Credential {
    /// Xref: `X-Api-Key`.
    Header(&'static str, String),
    /// Justifacts (user, password), ESR (account id, API key).
    Basic(String, String),
    /// HRLogics: the API key as a Bearer token.
    Bearer(String),
}

impl Credential {
    fn apply(&self, request: RequestBuilder) -> RequestBuilder {
        match self {
            Credential::Header(name, key) => request.header(*name, key),
            Credential::Basic(user, password) => request.basic_auth(user, Some(password)),
            Credential::Bearer(token) => request.bearer_auth(token),
        }
    }

    /// The same kind of credential, wrong.
    fn wrong(&self) -> Credential {
        let wrong = "lever-screening-conformance-wrong-credential".to_owned();
        match self {
            Credential::Header(name, _) => Credential::Header(name, wrong),
            Credential::Basic(user, _) => Credential::Basic(user.clone(), wrong),
            Credential::Bearer(_) => Credential::Bearer(wrong),
        }
    }
}

/// What the suite needs to know of one contract vendor.
struct Profile {
    /// The create path; orders are read at `{path}/{id}`.
    path: &'static str,
    /// The field of the create answer and of the order that holds the vendor's id.
    id_field: &'static str,
    /// The contract's schemas: create request, create answer, order.
    create: &'static str,
    created: &'static str,
    order: &'static str,
    /// The JSON pointer of the candidate's email in the create body.
    email: &'static str,
    /// The status a cancelled order takes; `None` for a vendor without cancel.
    cancelled: Option<&'static str>,
}

fn profile(vendor: VendorId) -> Option<Profile> {
    Some(match vendor {
        VendorId::Xref => Profile {
            path: "/reference-checks",
            id_field: "id",
            create: "XrefCreate",
            created: "XrefCreated",
            order: "XrefOrder",
            email: "/candidate/email",
            cancelled: Some("Cancelled"),
        },
        VendorId::Justifacts => Profile {
            path: "/invitations",
            id_field: "request_id",
            create: "JustifactsCreate",
            created: "JustifactsCreated",
            order: "JustifactsInvitation",
            email: "/applicant/email",
            cancelled: Some("Cancelled"),
        },
        VendorId::HrLogics => Profile {
            path: "/wotc/applicants",
            id_field: "applicant_id",
            create: "HrLogicsCreate",
            created: "HrLogicsCreated",
            order: "HrLogicsApplicant",
            email: "/email",
            cancelled: None,
        },
        VendorId::Esr => Profile {
            path: "/orders",
            id_field: "order_id",
            create: "EsrCreate",
            created: "EsrCreated",
            order: "EsrOrder",
            email: "/candidate/email",
            cancelled: Some("Canceled"),
        },
        // Their own published APIs, not the contract.
        VendorId::Sterling | VendorId::Checkr => return None,
    })
}

/// The vendors the contract covers (Sterling and Checkr publish their own APIs).
pub fn contract_vendors() -> Vec<VendorId> {
    VendorId::ALL
        .iter()
        .copied()
        .filter(|v| profile(*v).is_some())
        .collect()
}

/// One run's target.
#[derive(Debug, Clone)]
pub struct Target {
    pub vendor: VendorId,
    /// The implementation's base URL (the integration's `api_base`).
    pub base_url: String,
    pub credential: Credential,
    /// A package the account sells, where the vendor needs one: ESR's package id;
    /// Justifacts' `code` and `id`. `None`: the contract's example.
    pub package: Option<Value>,
}

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: String,
    /// `Err` says what was wrong, for a person.
    pub outcome: Result<(), String>,
}

/// The suite's report: every check, in order.
#[derive(Debug, Clone)]
pub struct Report {
    pub vendor: VendorId,
    pub checks: Vec<Check>,
}

impl Report {
    pub fn failed(&self) -> usize {
        self.checks.iter().filter(|c| c.outcome.is_err()).count()
    }
}

struct Answer {
    status: StatusCode,
    body: Value,
}

struct Suite<'a> {
    target: &'a Target,
    profile: Profile,
    document: &'static Value,
    http: reqwest::Client,
    checks: Vec<Check>,
}

impl Suite<'_> {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.target.base_url.trim_end_matches('/'))
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        credential: &Credential,
        build: impl FnOnce(RequestBuilder) -> RequestBuilder,
    ) -> Result<Answer, String> {
        let request = credential.apply(self.http.request(method.clone(), self.url(path)));
        let response = build(request)
            .send()
            .await
            .map_err(|e| format!("{method} {path}: no answer: {e}"))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| format!("{method} {path}: {e}"))?;
        let body = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).map_err(|_| {
                let start: String = text.chars().take(120).collect();
                format!("{method} {path} answered {status} with a body that is not JSON: {start}")
            })?
        };
        Ok(Answer { status, body })
    }

    fn record(&mut self, name: &str, outcome: Result<(), String>) {
        self.checks.push(Check {
            name: name.to_owned(),
            outcome,
        });
    }

    /// `answer` has `status` and a body conforming to `schema`.
    fn expect(answer: &Answer, status: u16, schema: &str) -> Result<(), String> {
        if answer.status.as_u16() != status {
            return Err(format!(
                "answered {} {}, expected {status}",
                answer.status.as_u16(),
                answer.body
            ));
        }
        let problems = violations(schema, &answer.body);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "the body is not a {schema}: {}",
                problems.join("; ")
            ))
        }
    }

    fn create_body(&self, reference: &str) -> Value {
        let operation = &self.document["paths"][self.profile.path]["post"];
        let mut body = operation["requestBody"]["content"]["application/json"]["example"].clone();
        body["client_reference"] = json!(reference);
        body["callback_url"] = json!(CALLBACK_URL);
        if let Some(package) = &self.target.package {
            match self.target.vendor {
                VendorId::Esr => body["package_id"] = package.clone(),
                _ => body["package"] = package.clone(),
            }
        }
        body
    }

    async fn create(
        &self,
        body: &Value,
        key: &str,
        credential: &Credential,
    ) -> Result<Answer, String> {
        self.call(Method::POST, self.profile.path, credential, |r| {
            r.header("Idempotency-Key", key).json(body)
        })
        .await
    }

    async fn run(mut self) -> Vec<Check> {
        let good = self.target.credential.clone();
        let wrong = good.wrong();
        let create_schema = self.profile.create;

        let answer = self.call(Method::GET, "/account", &good, |r| r).await;
        let outcome = answer.and_then(|a| Self::expect(&a, 200, "Account"));
        self.record(
            "the credential check (GET /account) accepts the credential",
            outcome,
        );
        let answer = self.call(Method::GET, "/account", &wrong, |r| r).await;
        let outcome = answer.and_then(|a| Self::expect(&a, 401, "Error"));
        self.record(
            "the credential check refuses a wrong credential with 401",
            outcome,
        );

        let reference = uuid::Uuid::new_v4().simple().to_string();
        let body = self.create_body(&reference);
        let example_problems = violations(create_schema, &body);
        if !example_problems.is_empty() {
            let why = format!(
                "the create body is not a {create_schema}: {}",
                example_problems.join("; ")
            );
            self.record("the create body conforms to the contract", Err(why));
            return self.checks;
        }
        // Its own reference, so an implementation that lets it through does not also fail
        // the checks of the real create.
        let probe = uuid::Uuid::new_v4().simple().to_string();
        let answer = self.create(&self.create_body(&probe), &probe, &wrong).await;
        let outcome = answer.and_then(|a| Self::expect(&a, 401, "Error"));
        self.record(
            "a create with a wrong credential is refused with 401",
            outcome,
        );

        let answer = self
            .call(Method::POST, self.profile.path, &good, |r| {
                r.header("Content-Type", "application/json")
                    .header("Idempotency-Key", uuid::Uuid::new_v4().simple().to_string())
                    .body("{not json")
            })
            .await;
        let outcome = answer.and_then(|a| Self::expect(&a, 400, "Error"));
        self.record(
            "a create whose body is not JSON is refused with 400",
            outcome,
        );

        let mut bad_email = self.create_body(&uuid::Uuid::new_v4().simple().to_string());
        if let Some(email) = bad_email.pointer_mut(self.profile.email) {
            *email = json!("not-an-email");
        }
        let key = bad_email["client_reference"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let answer = self.create(&bad_email, &key, &good).await;
        let outcome = answer.and_then(|a| {
            Self::expect(&a, 422, "Error")?;
            match a.body["code"].as_str() {
                Some("InvalidRequest") => Ok(()),
                other => Err(format!("code is {other:?}, expected \"InvalidRequest\"")),
            }
        });
        self.record(
            "a create with an invalid email is refused with 422 InvalidRequest",
            outcome,
        );

        let answer = self.create(&body, &reference, &good).await;
        let id_field = self.profile.id_field;
        let created = answer.and_then(|a| {
            Self::expect(&a, 201, self.profile.created)?;
            a.body[id_field]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("the answer has no `{id_field}`"))
        });
        let id = match created {
            Ok(id) => {
                self.record("a create answers 201 with the new order", Ok(()));
                id
            }
            Err(why) => {
                self.record("a create answers 201 with the new order", Err(why));
                return self.checks;
            }
        };

        let answer = self.create(&body, &reference, &good).await;
        let outcome = answer.and_then(|a| {
            Self::expect(&a, 200, self.profile.created)?;
            same(&a.body[id_field], &id, "the order made the first time")
        });
        self.record(
            "a create repeated under the same Idempotency-Key answers 200 with the same order",
            outcome,
        );

        let other_key = uuid::Uuid::new_v4().simple().to_string();
        let answer = self.create(&body, &other_key, &good).await;
        let outcome = answer.and_then(|a| {
            Self::expect(&a, 409, "DuplicateReference")?;
            same(&a.body["id"], &id, "the order that has the reference")
        });
        self.record(
            "a create with a taken client_reference answers 409 duplicate_reference naming the order",
            outcome,
        );

        let order_path = format!("{}/{id}", self.profile.path);
        let answer = self.call(Method::GET, &order_path, &good, |r| r).await;
        let outcome = answer.and_then(|a| {
            Self::expect(&a, 200, self.profile.order)?;
            same(&a.body[id_field], &id, "the order created")?;
            same(
                &a.body["client_reference"],
                &reference,
                "the client_reference sent",
            )
        });
        self.record(
            "a read answers the order with its client_reference",
            outcome,
        );

        let unknown = format!(
            "{}/lever-screening-conformance-no-such-order",
            self.profile.path
        );
        let answer = self.call(Method::GET, &unknown, &good, |r| r).await;
        let outcome = answer.and_then(|a| Self::expect(&a, 404, "Error"));
        self.record("a read of an unknown id answers 404", outcome);

        if let Some(cancelled) = self.profile.cancelled {
            let cancel_path = format!("{order_path}/cancel");
            let answer = self.call(Method::POST, &cancel_path, &good, |r| r).await;
            let outcome = answer.and_then(|a| {
                Self::expect(&a, 200, self.profile.order)?;
                same(&a.body["status"], cancelled, "the cancelled status")
            });
            self.record("a cancel answers 200 with the order cancelled", outcome);

            let answer = self.call(Method::POST, &cancel_path, &good, |r| r).await;
            let outcome = answer.and_then(|a| {
                Self::expect(&a, 409, "Error")?;
                same(&a.body["code"], "order_ended", "the code")
            });
            self.record(
                "a cancel of an ended order answers 409 order_ended",
                outcome,
            );

            let answer = self
                .call(Method::POST, &format!("{unknown}/cancel"), &good, |r| r)
                .await;
            let outcome = answer.and_then(|a| Self::expect(&a, 404, "Error"));
            self.record("a cancel of an unknown id answers 404", outcome);
        }
        self.checks
    }
}

fn same(value: &Value, expected: &str, what: &str) -> Result<(), String> {
    if value.as_str() == Some(expected) {
        Ok(())
    } else {
        Err(format!("{value} is not {what} ({expected:?})"))
    }
}

/// Runs the suite against `target`. `None` when the vendor is not a contract vendor.
pub async fn run(target: &Target) -> Option<Report> {
    let profile = profile(target.vendor)?;
    let setup = contract().and_then(|document| {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .map_err(|e| format!("no HTTP client: {e}"))?;
        Ok((document, http))
    });
    let checks = match setup {
        Ok((document, http)) => {
            let suite = Suite {
                target,
                profile,
                document,
                http,
                checks: Vec::new(),
            };
            suite.run().await
        }
        Err(problem) => vec![Check {
            name: "the suite starts".to_owned(),
            outcome: Err(problem),
        }],
    };
    Some(Report {
        vendor: target.vendor,
        checks,
    })
}
