//! The parts of Lever's API objects this product reads (lever-api.md §4). Unknown fields
//! are ignored; missing optional ones default, so a sparse object still parses.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Opportunity {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub emails: Vec<String>,
    #[serde(default)]
    pub phones: Vec<Phone>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Stage UID.
    #[serde(default)]
    pub stage: Option<String>,
    #[serde(default)]
    pub location: Option<String>,
    /// With `expand=applications`: the application objects (at most one), which name the
    /// posting.
    #[serde(default)]
    pub applications: Vec<Application>,
}

impl Opportunity {
    /// The posting the candidate applied to or was sourced for, if any.
    pub fn posting_id(&self) -> Option<&str> {
        self.applications
            .iter()
            .find_map(|application| application.posting.as_deref())
    }

    pub fn primary_email(&self) -> Option<&str> {
        self.emails.iter().map(|e| e.trim()).find(|e| !e.is_empty())
    }

    pub fn primary_phone(&self) -> Option<&str> {
        self.phones
            .iter()
            .filter_map(|p| p.value.as_deref())
            .map(str::trim)
            .find(|p| !p.is_empty())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Phone {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub value: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Application {
    pub id: String,
    #[serde(default)]
    pub posting: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Posting {
    pub id: String,
    /// The posting's title.
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub categories: PostingCategories,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PostingCategories {
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub team: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage {
    pub id: String,
    /// Display name, e.g. "Reference Check".
    pub text: String,
}

/// `POST /opportunities/:id/notes` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewNote {
    pub value: String,
    #[serde(default)]
    pub secret: bool,
}
