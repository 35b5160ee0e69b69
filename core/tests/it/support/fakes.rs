//! In-memory fakes of the outside world for the flow tests: Lever (its API, and the
//! connector that hands it out) and a vendor's wire API. They record what they were asked and
//! can be told to fail, so each rule of the product is tested in microseconds.

use async_trait::async_trait;
use lever_screening::clock::{now_millis, Deadline};
use lever_screening::connect::LeverConnector;
use lever_screening::directory::Tenant;
use lever_screening::ids::OpportunityId;
use lever_screening::lever::model::{
    Application, Archived, NoteField, Phone, StageChangeRecord, WebhookConfiguration,
};
use lever_screening::lever::{
    LeverApi, LeverError, NewNote, Note, Opportunity, OpportunityFilter, Posting, Stage, Webhook,
};
use lever_screening::order::VendorResults;
use lever_screening::vendors::{
    Cancellation, CandidateOrder, PlacedOrder, Placement, StatusUpdate, VendorAccount, VendorApi,
    VendorError, VendorId,
};
use lever_screening::AppError;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// A note as the fake Lever keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeNote {
    pub id: String,
    pub note: NewNote,
}

#[derive(Default)]
struct LeverState {
    opportunities: HashMap<String, Opportunity>,
    postings: HashMap<String, Posting>,
    stages: Vec<Stage>,
    notes: HashMap<String, Vec<FakeNote>>,
    webhooks: Vec<Webhook>,
    calls: Vec<String>,
    /// Errors the next calls answer, in order.
    failures: VecDeque<LeverError>,
    /// The credential is refused (401) on every call.
    revoked: bool,
    /// The next note POSTs are applied, then answered as if the answer was lost.
    ambiguous_notes: usize,
    /// Which integrations asked for a client.
    connected: Vec<VendorId>,
}

/// Lever, in memory. Cloning shares the account.
#[derive(Clone, Default)]
pub struct FakeLever {
    state: Arc<Mutex<LeverState>>,
}

impl FakeLever {
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, LeverState> {
        lock(&self.state)
    }

    pub fn add_stage(&self, id: &str, text: &str) {
        self.state().stages.push(Stage {
            id: id.into(),
            text: text.into(),
        });
    }

    pub fn add_posting(&self, id: &str, title: &str, tags: &[&str]) {
        self.state().postings.insert(
            id.into(),
            Posting {
                id: id.into(),
                text: Some(title.into()),
                tags: tags.iter().map(|t| (*t).to_owned()).collect(),
                ..Posting::default()
            },
        );
    }

    /// A candidate in `stage`, applied to `posting`.
    pub fn add_opportunity(
        &self,
        id: &str,
        name: Option<&str>,
        email: Option<&str>,
        stage: &str,
        posting: Option<&str>,
    ) {
        let opportunity = Opportunity {
            id: id.into(),
            name: name.map(str::to_owned),
            emails: email.map(str::to_owned).into_iter().collect(),
            phones: vec![Phone {
                kind: Some("mobile".into()),
                value: Some("(416) 555-0104".into()),
            }],
            stage: Some(stage.into()),
            stage_changes: vec![StageChangeRecord {
                to_stage_id: stage.into(),
                updated_at: Some(now_millis() - 86_400_000),
            }],
            applications: vec![Application {
                id: format!("{id}-app"),
                posting: posting.map(str::to_owned),
            }],
            ..Opportunity::default()
        };
        self.state().opportunities.insert(id.into(), opportunity);
    }

    /// Moves the candidate, as a recruiter does in Lever (a stage change at `at`).
    pub fn move_to(&self, opportunity: &str, stage: &str, at: i64) {
        let mut state = self.state();
        let found = state.opportunities.get_mut(opportunity).expect("seeded");
        found.stage = Some(stage.into());
        // One candidate's moves are never in the same millisecond in Lever.
        let last = found
            .stage_changes
            .iter()
            .filter_map(|c| c.updated_at)
            .max();
        found.stage_changes.push(StageChangeRecord {
            to_stage_id: stage.into(),
            updated_at: Some(last.map_or(at, |last| at.max(last + 1))),
        });
    }

    /// When the candidate entered a stage, each time, oldest first.
    pub fn stage_entries(&self, opportunity: &str) -> Vec<i64> {
        self.state().opportunities[opportunity]
            .stage_changes
            .iter()
            .filter_map(|c| c.updated_at)
            .collect()
    }

    /// Restores the candidate from the archive, as a recruiter does in Lever.
    pub fn unarchive(&self, opportunity: &str) {
        let mut state = self.state();
        state
            .opportunities
            .get_mut(opportunity)
            .expect("seeded")
            .archived = None;
    }

    /// Deletes the candidate, as an admin does in Lever: its API answers 404 after.
    pub fn delete(&self, opportunity: &str) {
        let mut state = self.state();
        state.opportunities.remove(opportunity);
        state.notes.remove(opportunity);
    }

    /// Archives the candidate, as a recruiter does in Lever.
    pub fn archive(&self, opportunity: &str) {
        let mut state = self.state();
        let found = state.opportunities.get_mut(opportunity).expect("seeded");
        found.archived = Some(Archived {
            archived_at: Some(now_millis()),
            reason: Some("reason-withdrew".into()),
        });
    }

    /// The candidate's current stage.
    pub fn stage(&self, opportunity: &str) -> Option<String> {
        self.state().opportunities[opportunity].stage.clone()
    }

    pub fn set_email(&self, opportunity: &str, email: &str) {
        let mut state = self.state();
        state
            .opportunities
            .get_mut(opportunity)
            .expect("seeded")
            .emails = vec![email.into()];
    }

    pub fn add_tag(&self, opportunity: &str, tag: &str) {
        let mut state = self.state();
        state
            .opportunities
            .get_mut(opportunity)
            .expect("seeded")
            .tags
            .push(tag.into());
    }

    pub fn tags(&self, opportunity: &str) -> Vec<String> {
        self.state().opportunities[opportunity].tags.clone()
    }

    pub fn notes(&self, opportunity: &str) -> Vec<FakeNote> {
        self.state()
            .notes
            .get(opportunity)
            .cloned()
            .unwrap_or_default()
    }

    /// What a person makes of the opportunity's notes: these, and no others.
    pub fn replace_notes(&self, opportunity: &str, notes: Vec<NewNote>) {
        let kept = notes
            .into_iter()
            .enumerate()
            .map(|(n, note)| FakeNote {
                id: format!("own-note-{n}"),
                note,
            })
            .collect();
        self.state().notes.insert(opportunity.into(), kept);
    }

    /// Every call, as `METHOD what`, oldest first.
    pub fn calls(&self) -> Vec<String> {
        self.state().calls.clone()
    }

    pub fn fail_next(&self, error: LeverError) {
        self.state().failures.push_back(error);
    }

    pub fn revoke(&self) {
        self.state().revoked = true;
    }

    pub fn lose_next_note_answers(&self, n: usize) {
        self.state().ambiguous_notes = n;
    }

    pub fn webhooks(&self) -> Vec<Webhook> {
        self.state().webhooks.clone()
    }

    pub fn connected(&self) -> Vec<VendorId> {
        self.state().connected.clone()
    }

    /// Records the call, then answers a queued failure or a revoked credential.
    fn call(&self, what: &str) -> Result<MutexGuard<'_, LeverState>, LeverError> {
        let mut state = self.state();
        state.calls.push(what.to_owned());
        if state.revoked {
            return Err(LeverError::Unauthorized { status: 401 });
        }
        if let Some(failure) = state.failures.pop_front() {
            return Err(failure);
        }
        Ok(state)
    }
}

fn not_found(what: &str) -> LeverError {
    LeverError::NotFound { what: what.into() }
}

#[async_trait]
impl LeverApi for FakeLever {
    async fn opportunity(&self, id: &OpportunityId) -> Result<Opportunity, LeverError> {
        let state = self.call("GET opportunity")?;
        state
            .opportunities
            .get(id.as_str())
            .cloned()
            .ok_or_else(|| not_found("opportunity"))
    }

    async fn opportunities(
        &self,
        filter: &OpportunityFilter,
    ) -> Result<Vec<Opportunity>, LeverError> {
        let state = self.call("GET opportunities")?;
        let mut found: Vec<Opportunity> = state
            .opportunities
            .values()
            .filter(|o| match filter {
                OpportunityFilter::InStageUpdatedSince { stage_id, since } => {
                    o.stage.as_deref() == Some(stage_id.as_str())
                        && o.stage_changes
                            .iter()
                            .any(|c| c.updated_at.is_some_and(|at| at >= *since))
                }
                OpportunityFilter::ArchivedSince(since) => o
                    .archived
                    .as_ref()
                    .and_then(|a| a.archived_at)
                    .is_some_and(|at| at >= *since),
            })
            .cloned()
            .collect();
        found.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(found)
    }

    async fn posting(&self, id: &str) -> Result<Posting, LeverError> {
        let state = self.call("GET posting")?;
        state
            .postings
            .get(id)
            .cloned()
            .ok_or_else(|| not_found("posting"))
    }

    async fn stages(&self) -> Result<Vec<Stage>, LeverError> {
        Ok(self.call("GET stages")?.stages.clone())
    }

    async fn add_tags(
        &self,
        opportunity: &OpportunityId,
        tags: &[String],
    ) -> Result<(), LeverError> {
        if tags.is_empty() {
            return Ok(());
        }
        let mut state = self.call("POST addTags")?;
        let found = state
            .opportunities
            .get_mut(opportunity.as_str())
            .ok_or_else(|| not_found("opportunity"))?;
        for tag in tags {
            if !found.tags.contains(tag) {
                found.tags.push(tag.clone());
            }
        }
        Ok(())
    }

    async fn remove_tags(
        &self,
        opportunity: &OpportunityId,
        tags: &[String],
    ) -> Result<(), LeverError> {
        if tags.is_empty() {
            return Ok(());
        }
        let mut state = self.call("POST removeTags")?;
        let found = state
            .opportunities
            .get_mut(opportunity.as_str())
            .ok_or_else(|| not_found("opportunity"))?;
        found.tags.retain(|t| !tags.contains(t));
        Ok(())
    }

    async fn notes(&self, opportunity: &OpportunityId) -> Result<Vec<Note>, LeverError> {
        let state = self.call("GET notes")?;
        Ok(state
            .notes
            .get(opportunity.as_str())
            .into_iter()
            .flatten()
            .map(|note| Note {
                id: note.id.clone(),
                created_at: note.note.created_at,
                fields: vec![NoteField {
                    kind: Some("note".into()),
                    value: Some(note.note.value.clone().into()),
                }],
            })
            .collect())
    }

    async fn add_note(
        &self,
        opportunity: &OpportunityId,
        note: &NewNote,
    ) -> Result<String, LeverError> {
        let mut state = self.call("POST note")?;
        let id = format!(
            "note-{}",
            state.notes.values().map(Vec::len).sum::<usize>() + 1
        );
        state
            .notes
            .entry(opportunity.to_string())
            .or_default()
            .push(FakeNote {
                id: id.clone(),
                note: NewNote {
                    // Lever dates a note without `createdAt` at its arrival.
                    created_at: note.created_at.or(Some(now_millis())),
                    ..note.clone()
                },
            });
        if state.ambiguous_notes > 0 {
            state.ambiguous_notes -= 1;
            return Err(LeverError::Ambiguous("timeout".into()));
        }
        Ok(id)
    }

    async fn update_note(
        &self,
        opportunity: &OpportunityId,
        note_id: &str,
        note: &NewNote,
    ) -> Result<(), LeverError> {
        let mut state = self.call("PUT note")?;
        let found = state
            .notes
            .get_mut(opportunity.as_str())
            .and_then(|notes| notes.iter_mut().find(|n| n.id == note_id))
            .ok_or_else(|| not_found("note"))?;
        found.note = NewNote {
            created_at: found.note.created_at,
            ..note.clone()
        };
        Ok(())
    }

    async fn move_to_stage(
        &self,
        opportunity: &OpportunityId,
        stage_id: &str,
    ) -> Result<(), LeverError> {
        let mut state = self.call("PUT stage")?;
        let found = state
            .opportunities
            .get_mut(opportunity.as_str())
            .ok_or_else(|| not_found("opportunity"))?;
        found.stage = Some(stage_id.into());
        found.stage_changes.push(StageChangeRecord {
            to_stage_id: stage_id.into(),
            updated_at: Some(now_millis()),
        });
        Ok(())
    }

    async fn webhooks(&self) -> Result<Vec<Webhook>, LeverError> {
        Ok(self.call("GET webhooks")?.webhooks.clone())
    }

    async fn create_webhook(&self, event: &str, url: &str) -> Result<Webhook, LeverError> {
        let mut state = self.call("POST webhook")?;
        let id = format!("wh-{}", state.webhooks.len() + 1);
        let webhook = Webhook {
            id: id.clone(),
            event: event.into(),
            url: url.into(),
            configuration: WebhookConfiguration {
                signature_token: Some(format!("signature-token-of-{id}").into()),
            },
        };
        state.webhooks.push(webhook.clone());
        Ok(webhook)
    }

    async fn delete_webhook(&self, id: &str) -> Result<(), LeverError> {
        let mut state = self.call("DELETE webhook")?;
        state.webhooks.retain(|w| w.id != id);
        Ok(())
    }
}

#[async_trait]
impl LeverConnector for FakeLever {
    async fn connect(
        &self,
        tenant: &Tenant,
        vendor: VendorId,
        _deadline: Deadline,
    ) -> Result<Arc<dyn LeverApi>, AppError> {
        if tenant.secrets.lever_credential(vendor).is_none() {
            return Err(AppError::Misconfigured(format!(
                "vendors.{vendor}.lever: none"
            )));
        }
        self.state().connected.push(vendor);
        Ok(Arc::new(self.clone()))
    }
}

/// An order as the fake vendor keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct VendorOrder {
    pub id: String,
    /// Our order id, the idempotency key.
    pub reference: String,
    pub email: String,
    pub phone: Option<String>,
    pub package: Option<String>,
    pub callback_url: String,
    pub status: String,
    pub cancelled: bool,
}

#[derive(Default)]
struct VendorState {
    orders: Vec<VendorOrder>,
    failures: VecDeque<VendorError>,
    can_cancel: bool,
    /// Placing takes these steps first (Sterling's candidate).
    steps: Vec<&'static str>,
    calls: usize,
}

/// A vendor's wire API, in memory: idempotent creates by our order id.
#[derive(Clone, Default)]
pub struct FakeVendor {
    state: Arc<Mutex<VendorState>>,
    first_status: &'static str,
}

impl FakeVendor {
    /// A vendor whose new orders have status `first_status`; it can cancel.
    pub fn new(first_status: &'static str) -> Self {
        let vendor = FakeVendor {
            state: Arc::default(),
            first_status,
        };
        vendor.state().can_cancel = true;
        vendor
    }

    /// Placing first creates one vendor-side object per step (as Sterling's candidate).
    pub fn with_steps(self, steps: &[&'static str]) -> Self {
        self.state().steps = steps.to_vec();
        self
    }

    fn state(&self) -> MutexGuard<'_, VendorState> {
        lock(&self.state)
    }

    pub fn orders(&self) -> Vec<VendorOrder> {
        self.state().orders.clone()
    }

    pub fn calls(&self) -> usize {
        self.state().calls
    }

    pub fn fail_next(&self, error: VendorError) {
        self.state().failures.push_back(error);
    }

    pub fn cannot_cancel(&self) {
        self.state().can_cancel = false;
    }

    /// The vendor's current status for an order (what `read_order` answers).
    pub fn set_status(&self, id: &str, status: &str) {
        let mut state = self.state();
        if let Some(order) = state.orders.iter_mut().find(|o| o.id == id) {
            order.status = status.into();
        }
    }

    fn call(&self) -> Result<MutexGuard<'_, VendorState>, VendorError> {
        let mut state = self.state();
        state.calls += 1;
        match state.failures.pop_front() {
            Some(failure) => Err(failure),
            None => Ok(state),
        }
    }
}

#[async_trait]
impl VendorApi for FakeVendor {
    /// Answers as its next scripted call does (a queued failure is the vendor's refusal).
    async fn verify_credentials(&self, _account: &VendorAccount<'_>) -> Result<(), VendorError> {
        self.call().map(drop)
    }

    async fn place(
        &self,
        _account: &VendorAccount<'_>,
        order: &CandidateOrder<'_>,
        steps: &BTreeMap<String, String>,
    ) -> Result<Placement, VendorError> {
        let mut state = self.call()?;
        if let Some(step) = state
            .steps
            .iter()
            .find(|s| !steps.contains_key(**s))
            .copied()
        {
            return Ok(Placement::Steps(vec![(
                step,
                format!("{step}-of-{}", order.order_id),
            )]));
        }
        if let Some(existing) = state.orders.iter().find(|o| o.reference == order.order_id) {
            return Ok(Placement::Placed(PlacedOrder {
                vendor_order_id: existing.id.clone(),
                status: Some(existing.status.clone()),
                results: VendorResults::default(),
            }));
        }
        let id = format!("v-{}", state.orders.len() + 1);
        state.orders.push(VendorOrder {
            id: id.clone(),
            reference: order.order_id.into(),
            email: order.email.into(),
            phone: order.phone.map(str::to_owned),
            package: order.package.map(|p| p.id.clone()),
            callback_url: order.callback_url.into(),
            status: self.first_status.into(),
            cancelled: false,
        });
        Ok(Placement::Placed(PlacedOrder {
            vendor_order_id: id,
            status: Some(self.first_status.into()),
            results: VendorResults::default(),
        }))
    }

    fn parse_callback(&self, body: &[u8]) -> Result<Option<StatusUpdate>, VendorError> {
        #[derive(serde::Deserialize)]
        struct Body {
            id: String,
            status: String,
            #[serde(default)]
            reference: Option<String>,
            #[serde(default)]
            report_url: Option<String>,
            #[serde(default)]
            result_code: Option<String>,
        }
        let body: Body =
            serde_json::from_slice(body).map_err(|e| VendorError::Decode(e.to_string()))?;
        Ok(Some(StatusUpdate {
            vendor_order_id: body.id,
            client_reference: body.reference,
            status: body.status,
            results: VendorResults {
                report_url: body.report_url,
                result_code: body.result_code,
                ..VendorResults::default()
            },
        }))
    }

    async fn read_order(
        &self,
        _account: &VendorAccount<'_>,
        vendor_order_id: &str,
    ) -> Result<StatusUpdate, VendorError> {
        let state = self.call()?;
        let order = state
            .orders
            .iter()
            .find(|o| o.id == vendor_order_id)
            .ok_or_else(|| VendorError::Rejected {
                status: 404,
                message: "no such order".into(),
            })?;
        Ok(StatusUpdate {
            vendor_order_id: order.id.clone(),
            client_reference: Some(order.reference.clone()),
            status: order.status.clone(),
            results: VendorResults::default(),
        })
    }

    async fn cancel(
        &self,
        _account: &VendorAccount<'_>,
        vendor_order_id: &str,
    ) -> Result<Cancellation, VendorError> {
        let mut state = self.call()?;
        if !state.can_cancel {
            return Ok(Cancellation::Unsupported);
        }
        if let Some(order) = state.orders.iter_mut().find(|o| o.id == vendor_order_id) {
            order.cancelled = true;
        }
        Ok(Cancellation::Cancelled)
    }
}
