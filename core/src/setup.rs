//! The setup rules: what the setup console and the operator command both refuse before they
//! store a tenant's settings or secrets — URLs that cannot be reached safely, settings that
//! cannot order or would order twice, secrets holding placeholders, keys that cannot be
//! Lever's. One rule, one place: each answers why, naming its field, and never quotes a
//! secret.

use crate::ids::VendorId;
use crate::lever::{self, Stage};
use crate::secrets::{LeverCredentials, TenantSecrets};
use crate::tenant::{Integration, StageRef, TenantConfig};
use crate::vendors::{Trigger, VendorDescription, Vendors};
use secrecy::ExposeSecret;
use std::net::{IpAddr, Ipv6Addr};

/// The Lever API keys of the document (`lever.api_key`, `vendors.<v>.lever.api_key`) that
/// cannot be Lever's.
fn lever_key_problems(secrets: &TenantSecrets) -> Vec<String> {
    let own = secrets
        .vendors
        .iter()
        .filter_map(|(vendor, s)| Some((format!("vendors.{vendor}.lever"), s.lever.as_ref()?)));
    std::iter::once(("lever".to_owned(), &secrets.lever))
        .chain(own)
        .filter_map(|(field, credentials): (String, &LeverCredentials)| {
            let problem = lever::api_key_problem(credentials.api_key.as_ref()?.expose_secret())?;
            Some(format!("{field}.api_key: {problem}"))
        })
        .collect()
}

/// Everything in a tenant's secret document that cannot be used, each naming its field:
/// callback secrets and webhook signature tokens (`callback_auth::problems`), and Lever API
/// keys.
pub fn secret_problems(secrets: &TenantSecrets, vendors: &Vendors) -> Vec<String> {
    let mut problems = crate::callback_auth::problems(secrets, vendors);
    problems.extend(lever_key_problems(secrets));
    problems
}

/// The setting a [`Problem`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `lever_api_base`.
    LeverApiBase,
    /// `vendors.<v>`: the integration itself.
    Vendor,
    /// `vendors.<v>.api_base`.
    ApiBase,
    /// `vendors.<v>.trigger_stage`.
    TriggerStage,
    /// `vendors.<v>.shares_trigger_stage`: the confirmation that another integration of
    /// the same kind is ordered by the same move.
    SharesTriggerStage,
    /// `vendors.<v>.on_completion.move_to_stage`.
    OnCompletion,
    /// The integration's Lever credential (in the tenant's secret).
    LeverCredential,
}

impl Field {
    /// The field's path under the integration (`api_base`), as the configuration file has it.
    pub fn path(self) -> &'static str {
        match self {
            Field::LeverApiBase => "lever_api_base",
            Field::Vendor => "",
            Field::ApiBase => "api_base",
            Field::TriggerStage => "trigger_stage",
            Field::SharesTriggerStage => "shares_trigger_stage",
            Field::OnCompletion => "on_completion.move_to_stage",
            Field::LeverCredential => "lever",
        }
    }
}

/// One setting that cannot work: where, and why in the admin's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The integration, `None` for a tenant-wide setting.
    pub vendor: Option<VendorId>,
    /// The setting.
    pub field: Field,
    /// Why, and what to do.
    pub message: String,
}

impl std::fmt::Display for Problem {
    /// `vendors.xref.api_base: must be an https:// URL …`, as the command prints it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.vendor, self.field) {
            (None, field) => write!(f, "{}: {}", field.path(), self.message),
            (Some(vendor), Field::Vendor) => write!(f, "vendors.{vendor}: {}", self.message),
            (Some(vendor), field) => {
                write!(f, "vendors.{vendor}.{}: {}", field.path(), self.message)
            }
        }
    }
}

/// Everything in a tenant's configuration that cannot work, as the command prints it (see
/// [`settings_problems`]).
pub fn config_problems(config: &TenantConfig, vendors: &Vendors) -> Vec<String> {
    settings_problems(config, vendors, None)
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// Everything in a tenant's settings that cannot work, checked as a whole and without
/// asking Lever: vendors this build lacks, API bases that are not https (http only to a
/// loopback host), an enabled stage-triggered integration without its trigger stage, two
/// enabled integrations of one kind on the same trigger stage without the confirmation that
/// one move orders both, a completion rule naming no stage; with the tenant's `secrets`,
/// an enabled integration without a Lever credential.
pub fn settings_problems(
    config: &TenantConfig,
    vendors: &Vendors,
    secrets: Option<&TenantSecrets>,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    if let Some(problem) = api_base_problem(&config.lever_api_base) {
        problems.push(Problem {
            vendor: None,
            field: Field::LeverApiBase,
            message: problem,
        });
    }
    for (vendor, integration) in &config.vendors {
        let vendor = *vendor;
        let mut problem = |field, message: String| {
            problems.push(Problem {
                vendor: Some(vendor),
                field,
                message,
            });
        };
        let Some(known) = vendors.get(vendor) else {
            problem(Field::Vendor, "not a vendor this build knows".into());
            continue;
        };
        if let Some(why) = api_base_problem(&integration.api_base) {
            problem(Field::ApiBase, why);
        }
        let stage_triggered = known.description.trigger == Trigger::StageChange;
        if stage_triggered
            && integration.enabled
            && !integration
                .trigger_stage
                .as_ref()
                .is_some_and(names_a_stage)
        {
            problem(
                Field::TriggerStage,
                format!(
                    "missing; {vendor} orders when a candidate moves into this stage (e.g. \
                     {{\"name\": \"Reference Check\"}}); choose one, or switch the \
                     integration off"
                ),
            );
        }
        if let Some(rule) = &integration.on_completion {
            if !names_a_stage(&rule.move_to_stage) {
                problem(
                    Field::OnCompletion,
                    "names no stage (give its \"name\" or \"id\")".into(),
                );
            }
        }
        if integration.enabled
            && secrets.is_some_and(|secrets| secrets.lever_credential(vendor).is_none())
        {
            problem(
                Field::LeverCredential,
                "no Lever credential: connect Lever (its API key, or Connect with Lever) \
                 before enabling the integration"
                    .into(),
            );
        }
    }
    problems.extend(shared_stage_problems(config, vendors));
    problems
}

/// Enabled integrations of one kind ordered by a move into the same stage, none of them
/// confirming it: one move would order both (two background checks, say).
fn shared_stage_problems(config: &TenantConfig, vendors: &Vendors) -> Vec<Problem> {
    let staged: Vec<(VendorId, &Integration, &VendorDescription)> = config
        .vendors
        .iter()
        .filter(|(_, integration)| integration.enabled)
        .filter_map(|(vendor, integration)| {
            let description = vendors.get(*vendor)?.description;
            (description.trigger == Trigger::StageChange && integration.trigger_stage.is_some())
                .then_some((*vendor, integration, description))
        })
        .collect();
    let mut problems = Vec::new();
    for (vendor, integration, description) in &staged {
        let others: Vec<&(VendorId, &Integration, &VendorDescription)> = staged
            .iter()
            .filter(|(other, other_integration, other_description)| {
                other != vendor
                    && other_description.kind == description.kind
                    && same_stage(&integration.trigger_stage, &other_integration.trigger_stage)
            })
            .collect();
        let confirmed = integration.shares_trigger_stage
            || others
                .iter()
                .any(|(_, other, _)| other.shares_trigger_stage);
        if others.is_empty() || confirmed {
            continue;
        }
        let names: Vec<&str> = others.iter().map(|(_, _, d)| d.name).collect();
        // Its name as any of them has it (one just chosen by id in the console has none yet).
        let sharing = std::iter::once(integration).chain(others.iter().map(|(_, other, _)| other));
        let stages: Vec<&StageRef> = sharing.filter_map(|i| i.trigger_stage.as_ref()).collect();
        let stage = stages
            .iter()
            .find_map(|stage| stage.name.as_deref())
            .or_else(|| stages.iter().find_map(|stage| stage.id.as_deref()))
            .unwrap_or_default();
        problems.push(Problem {
            vendor: Some(*vendor),
            field: Field::SharesTriggerStage,
            message: format!(
                "{} is also ordered by a move into {stage}: one move would order both \
                 {}. Choose another trigger stage, or confirm that both are ordered \
                 (\"shares_trigger_stage\": true; in the console, the box \"Order both\")",
                names.join(" and "),
                description.kind.plural()
            ),
        });
    }
    problems
}

/// Whether two trigger stages are the same stage: by id when both have one, else by name.
pub fn same_stage(a: &Option<StageRef>, b: &Option<StageRef>) -> bool {
    let (Some(a), Some(b)) = (a, b) else {
        return false;
    };
    match (&a.id, &b.id) {
        (Some(x), Some(y)) => x == y,
        _ => match (&a.name, &b.name) {
            (Some(x), Some(y)) => x.trim().eq_ignore_ascii_case(y.trim()),
            _ => false,
        },
    }
}

/// Finds `stage` in Lever's `stages`: by its id when it has one, else by its name
/// (case-insensitively), recording the id found, and Lever's name when none was given.
/// Lever not having it is refused, listing the stages it has.
pub fn resolve_stage(stage: &mut StageRef, stages: &[Stage]) -> Result<(), String> {
    let known = || {
        let names: Vec<_> = stages.iter().map(|s| format!("{:?}", s.text)).collect();
        match names.is_empty() {
            true => "its stages: none".to_owned(),
            false => format!("its stages: {}", names.join(", ")),
        }
    };
    let found = match stage.id.as_deref().filter(|id| !id.trim().is_empty()) {
        Some(id) => stages
            .iter()
            .find(|s| s.id == id)
            .ok_or_else(|| format!("Lever has no stage with id {id:?} ({})", known()))?,
        None => {
            let name = stage.name.as_deref().unwrap_or_default().trim();
            stages
                .iter()
                .find(|s| s.text.trim().eq_ignore_ascii_case(name))
                .ok_or_else(|| format!("Lever has no stage named {name:?} ({})", known()))?
        }
    };
    stage.id = Some(found.id.clone());
    stage.name.get_or_insert_with(|| found.text.clone());
    Ok(())
}

/// Whether `stage` gives a non-blank id or name.
pub fn names_a_stage(stage: &StageRef) -> bool {
    let given = |value: &Option<String>| value.as_deref().is_some_and(|v| !v.trim().is_empty());
    given(&stage.id) || given(&stage.name)
}

/// Why `value` cannot be an API base this product calls with credentials: it must be an
/// `https://` URL, or `http://` to a loopback host (the local stack's simulators).
pub fn api_base_problem(value: &str) -> Option<String> {
    let url = match parse_url(value) {
        Ok(url) => url,
        Err(problem) => return Some(problem),
    };
    match url.scheme.as_str() {
        "https" => None,
        "http" if url.is_loopback() => None,
        _ => Some(
            "must be an https:// URL (http:// only to a loopback host such as 127.0.0.1)".into(),
        ),
    }
}

/// Why `value` cannot be this deployment's public base URL (`PUBLIC_BASE_URL`), if it
/// cannot: it must be an absolute `http(s)://` URL without a query or fragment.
pub fn public_base_problem(value: &str) -> Option<String> {
    match parse_url(value) {
        Ok(url) if url.scheme == "https" || url.scheme == "http" => None,
        Ok(_) => Some("must be an http:// or https:// URL".into()),
        Err(problem) => Some(problem),
    }
}

/// The parts of an absolute URL the checks need.
struct Url<'a> {
    /// Lower-cased.
    scheme: String,
    /// Without an IPv6 address's brackets.
    host: &'a str,
}

impl Url<'_> {
    fn is_loopback(&self) -> bool {
        self.host.eq_ignore_ascii_case("localhost")
            || self.host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }
}

/// `scheme://host[:port][/path]`, strictly: no spaces, no user info, no query or fragment
/// (a base has paths appended to it).
fn parse_url(value: &str) -> Result<Url<'_>, String> {
    const NOT_A_URL: &str = "is not an absolute URL (https://host/…)";
    if value.trim().is_empty() {
        return Err("is empty".into());
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("contains whitespace".into());
    }
    let (scheme, rest) = value.split_once("://").ok_or(NOT_A_URL)?;
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return Err(NOT_A_URL.into());
    }
    if rest.contains(['?', '#']) {
        return Err("has a query or fragment; give the base URL alone".into());
    }
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.contains('@') {
        return Err("carries a user name or password (…@); give the base URL alone".into());
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(inner) => {
            let (host, after) = inner.split_once(']').ok_or(NOT_A_URL)?;
            host.parse::<Ipv6Addr>()
                .map_err(|_| format!("{host:?} is not an IPv6 address"))?;
            match after {
                "" => (host, None),
                _ => (host, Some(after.strip_prefix(':').ok_or(NOT_A_URL)?)),
            }
        }
        None => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    if host.is_empty() {
        return Err("has no host".into());
    }
    let bracketed = authority.starts_with('[');
    if !bracketed
        && !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
    {
        return Err(format!("has an invalid host {host:?}"));
    }
    if let Some(port) = port {
        if port.is_empty()
            || !port.bytes().all(|b| b.is_ascii_digit())
            || port.parse::<u16>().is_err()
        {
            return Err(format!("has an invalid port {port:?}"));
        }
    }
    Ok(Url {
        scheme: scheme.to_ascii_lowercase(),
        host,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_bases_are_https_or_http_to_a_loopback_host() {
        for good in [
            "https://api.lever.co/v1",
            "https://api.xref.example",
            "HTTPS://API.LEVER.CO/v1/",
            "http://127.0.0.1:8080/v1",
            "http://localhost:3000",
            "http://[::1]:9000/x",
            "https://[2001:db8::1]/v1",
        ] {
            assert_eq!(api_base_problem(good), None, "{good}");
        }
        for bad in [
            "",
            "api.lever.co/v1",
            "http://api.lever.co/v1",
            "ftp://api.lever.co",
            "javascript:alert(1)",
            "https://",
            "https://user:pw@api.lever.co",
            "https://api.lever.co/v1?x=1",
            "https://api lever.co",
            "https://api.lever.co:99999",
            "https://api.lever.co:",
            "http://10.0.0.1/v1",
            "https://[::1",
        ] {
            assert!(api_base_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn a_public_base_is_an_absolute_http_url() {
        assert_eq!(
            public_base_problem("https://abc.execute-api.us-east-1.amazonaws.com"),
            None
        );
        assert_eq!(public_base_problem("http://127.0.0.1:9000"), None);
        for bad in ["d", "javascript:alert(1)", "", "mailto:x@y", "https://x/?q"] {
            assert!(public_base_problem(bad).is_some(), "{bad}");
        }
    }
}
