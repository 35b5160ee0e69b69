//! Everything Lever: the webhooks it sends us, the API we write back through, and OAuth for
//! integrations connected as authorized apps.

mod api;
pub mod client;
pub mod model;
pub mod oauth;
pub mod webhook;

pub use api::{LeverApi, LeverError};
pub use client::{AccessTokens, LeverAuth, LeverClient};
pub use model::{NewNote, Note, Opportunity, OpportunityFilter, Posting, Stage, Webhook};

/// The longest Lever API key accepted: Lever's are a few dozen characters, and Secrets
/// Manager refuses a secret document over 64 KB.
pub const MAX_API_KEY_CHARS: usize = 1024;

/// Why `key` cannot be a Lever API key, if it cannot; never quotes it.
pub fn api_key_problem(key: &str) -> Option<String> {
    if key.trim().is_empty() {
        return Some("is empty".into());
    }
    if key.chars().count() > MAX_API_KEY_CHARS {
        return Some(format!(
            "is {} characters long; a Lever API key has at most {MAX_API_KEY_CHARS}",
            key.chars().count()
        ));
    }
    if key.contains(['<', '>']) {
        return Some("is a placeholder (<…>): paste the key Lever generated".into());
    }
    if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("contains whitespace: paste the key alone".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_keys_are_refused_empty_blank_placeholders_or_huge() {
        assert_eq!(api_key_problem("a-fresh-xref-key"), None);
        for bad in ["", "   ", "<your key>", "two words"] {
            assert!(api_key_problem(bad).is_some(), "{bad:?}");
        }
        let huge = "k".repeat(70 * 1024);
        assert!(api_key_problem(&huge).unwrap().contains("at most 1024"));
    }
}
