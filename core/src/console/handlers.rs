//! The tenant's pages and the forms they post: each action calls the same flows as the
//! operator command (`flows::admin`, `flows::oauth`, `flows::webhook_health`), for the
//! session's tenant only.

use super::pages::{
    Check, Choice, CredentialInput, DeadRow, HealthRow, IntegrationRow, LeverSection, Link,
    MessagePage, Moment, NavLink, OrderRow, OverviewPage, PackageSection, Problem, StageSection,
    StatusPage, VendorActions, VendorPage, WebhookRow,
};
use super::session::Session;
use super::{Console, Form, Refusal};
use crate::callback_auth::check_secret;
use crate::clock::{utc_timestamp, Deadline};
use crate::directory::Tenant;
use crate::error::AppError;
use crate::flows::{admin, oauth, webhook_health, Worker};
use crate::ids::OpportunityId;
use crate::lever::oauth::OAuthApps;
use crate::lever::webhook::WebhookKind;
use crate::lever::Stage;
use crate::order::{Order, OrderPhase};
use crate::queue::DEAD_LETTERS_READ;
use crate::secrets::CredentialPath;
use crate::setup;
use crate::telemetry::metrics;
use crate::tenant::{Integration, Package, PackageSettings, StageRef, WebhookStatus};
use crate::vendors::{LeverAccess, PackageRule, Trigger, VendorDescription, VendorId};
use crate::work::Work;
use http::{Method, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use secrecy::ExposeSecret;
use std::time::Duration;

/// How long one page or action may spend on Lever (inside the function's 28 s).
mod deliveries;

const LEVER_BUDGET: Duration = Duration::from_secs(20);
/// How long the previous callback secret keeps working after a new one is saved.
const CALLBACK_SECRET_GRACE_MS: i64 = 24 * 3600 * 1000;
/// Open orders listed (the deployment's quietest first; the tenant's are shown).
const OPEN_ORDERS_SCANNED: usize = 1000;

/// Everything under `/console/tenants/{tenant}`: the session's tenant only.
pub(super) async fn tenant(
    console: &Console<'_>,
    request: &Request,
    tenant: &str,
    rest: &[&str],
) -> Response<Body> {
    let session = match console.session(request).await {
        Ok(Some(session)) => session,
        Ok(None) => return console.refusal(Refusal::NoSession, None),
        Err(error) => return console.refusal(error.into(), None),
    };
    let own = Link {
        href: format!("{}/tenants/{}", console.root, session.tenant),
        text: "Back to the overview".into(),
    };
    if tenant != session.tenant.as_str() {
        // Another tenant is indistinguishable from none.
        return console.refusal(AppError::NotFound("tenant").into(), Some(own));
    }
    let page = Page {
        console,
        overview: own.href.clone(),
        session,
    };
    let back = page.back(rest).unwrap_or(own);
    match page.route(request, rest).await {
        Ok(response) => response,
        Err(refusal) => {
            let frame = page.frame().await;
            console.refusal_in(refusal, Some(back), frame)
        }
    }
}

/// How a page is shown: after a GET (with the last action's notice), or again after a
/// refused post, with the problem, the refusal's status and what the form held.
#[derive(Default)]
struct Shown<'f> {
    notice: Option<String>,
    problem: Option<Problem>,
    status: StatusCode,
    /// The refused settings form, shown again as typed (never a secret: credential fields
    /// are write-only and always shown empty).
    typed: Option<&'f Form>,
}

impl Shown<'_> {
    fn notice(notice: Option<String>) -> Self {
        Shown {
            notice,
            ..Shown::default()
        }
    }
}

/// The page a form lives on, shown again when its post is refused.
#[derive(Clone, Copy)]
enum FormPage {
    Overview,
    Vendor(VendorId),
    Status,
    Deliveries,
}

/// One request of a signed-in tenant.
struct Page<'c, 'a> {
    console: &'c Console<'a>,
    session: Session,
    /// `/console/tenants/{tenant}`.
    overview: String,
}

impl Page<'_, '_> {
    /// The page the form posting to `rest` is on, to go back to after a refusal (else the
    /// overview).
    fn back(&self, rest: &[&str]) -> Option<Link> {
        match rest {
            ["vendors", vendor, _action] => VendorId::parse(vendor).map(|v| Link {
                href: self.vendor_href(v),
                text: format!("Back to {}", vendor_name(v)),
            }),
            ["status", _action] => Some(Link {
                href: self.status_href(),
                text: "Back to the status".into(),
            }),
            ["deliveries", _action] => Some(Link {
                href: self.deliveries_href(),
                text: "Back to the deliveries".into(),
            }),
            _ => None,
        }
    }

    async fn route(&self, request: &Request, rest: &[&str]) -> Result<Response<Body>, Refusal> {
        let method = request.method();
        if method == Method::GET {
            let query = request.query_string_parameters();
            let notice = notice(query.first("notice"), &query);
            let shown = Shown::notice(notice);
            return match rest {
                [] => self.overview_page(shown).await,
                ["vendors", vendor] => self.vendor_page(vendor_id(vendor)?, shown).await,
                ["status"] => self.status_page(shown, query.first("opportunity")).await,
                ["deliveries"] => self.deliveries_page(shown, &query).await,
                // A form's address opened (a reload after a refused post, a bookmark): its page.
                ["vendors"] => self.redirect(&self.overview),
                ["vendors", vendor, _action] => {
                    self.redirect(&self.vendor_href(vendor_id(vendor)?))
                }
                ["status", _action] => self.redirect(&self.status_href()),
                ["deliveries", _action] => self.redirect(&self.deliveries_href()),
                _ => Err(AppError::NotFound("page").into()),
            };
        }
        if method != Method::POST {
            return Err(AppError::MethodNotAllowed {
                allowed: "GET, POST",
            }
            .into());
        }
        let form = self.console.form(request)?;
        if !self.session.csrf_matches(form.get("csrf")) {
            tracing::warn!(tenant = %self.session.tenant, "console form without its CSRF token");
            return Err(Refusal::Csrf);
        }
        // Each action: its metric name, what the admin calls it, and the page its form is on.
        let overview = FormPage::Overview;
        let (action, doing, on, result) = match rest {
            ["vendors"] => (
                "add_vendor",
                "Adding the vendor",
                overview,
                self.add_vendor(&form).await,
            ),
            ["vendors", vendor, action] => {
                let vendor = vendor_id(vendor)?;
                let on = FormPage::Vendor(vendor);
                match *action {
                    "lever-key" => (
                        "lever_key",
                        "Saving the Lever API key",
                        on,
                        self.save_lever_key(vendor, &form).await,
                    ),
                    "connect" => (
                        "connect_oauth",
                        "Connecting with Lever",
                        on,
                        self.connect_oauth(vendor).await,
                    ),
                    "credentials" => (
                        "credentials",
                        "Saving the credentials",
                        on,
                        self.save_credentials(vendor, &form).await,
                    ),
                    "settings" => (
                        "settings",
                        "Saving the settings",
                        on,
                        self.save_settings(vendor, &form).await,
                    ),
                    "webhooks" => (
                        "register_webhooks",
                        "Registering the webhooks",
                        on,
                        self.register_webhooks(vendor).await,
                    ),
                    "rotate" => (
                        "rotate_token",
                        "Regenerating the signature token",
                        on,
                        self.rotate_token(vendor, &form).await,
                    ),
                    "delete" => (
                        "delete_integration",
                        "Deleting the integration",
                        on,
                        self.delete(vendor, &form).await,
                    ),
                    _ => return Err(AppError::NotFound("page").into()),
                }
            }
            ["status", "check"] => (
                "check_webhooks",
                "Checking the webhooks",
                FormPage::Status,
                self.check_webhooks().await,
            ),
            ["status", "retry"] => (
                "retry_dead_letter",
                "Retrying the work",
                FormPage::Status,
                self.retry(&form).await,
            ),
            ["status", "resume"] => (
                "resume_held",
                "Resuming the held orders",
                FormPage::Status,
                self.resume().await,
            ),
            ["deliveries", "replay"] => (
                "replay_delivery",
                "Replaying the delivery",
                FormPage::Deliveries,
                self.replay(&form).await,
            ),
            _ => return Err(AppError::NotFound("page").into()),
        };
        match result {
            Ok(response) => {
                metrics::console_action(action, "ok");
                tracing::info!(tenant = %self.session.tenant, action, "console action done");
                Ok(response)
            }
            Err(refusal) => {
                metrics::console_action(action, refusal.code());
                let typed = (action == "settings" || action == "add_vendor").then_some(&form);
                Ok(self.shown_again(on, doing, refusal, typed).await)
            }
        }
    }

    /// A refused post's own page again, under the normal navigation: the problem above it
    /// (and under its field), what the form held, the refusal's status. The address stays
    /// the form's, which a GET turns back into its page. A refusal that page cannot show
    /// (the integration is gone, the store is down) gets the plain refusal page instead.
    async fn shown_again(
        &self,
        on: FormPage,
        doing: &str,
        refusal: Refusal,
        typed: Option<&Form>,
    ) -> Response<Body> {
        if !refusal.shown_on_form() {
            let frame = self.frame().await;
            let back = Link {
                href: self.form_page_href(on),
                text: "Back".into(),
            };
            return self.console.refusal_in(refusal, Some(back), frame);
        }
        self.console.log_refusal(&refusal);
        let (_, message) = refusal.explain();
        let shown = Shown {
            notice: None,
            problem: Some(Problem {
                heading: format!("{doing} failed."),
                message,
                field: refusal.field(),
            }),
            status: refusal.status(),
            typed,
        };
        let page = match on {
            FormPage::Overview => self.overview_page(shown).await,
            FormPage::Vendor(vendor) => self.vendor_page(vendor, shown).await,
            FormPage::Status => self.status_page(shown, None).await,
            FormPage::Deliveries => self.deliveries_page(shown, &Default::default()).await,
        };
        match page {
            Ok(page) => page,
            Err(_) => {
                let frame = self.frame().await;
                self.console.refusal_in(refusal, None, frame)
            }
        }
    }

    fn form_page_href(&self, on: FormPage) -> String {
        match on {
            FormPage::Overview => self.overview.clone(),
            FormPage::Vendor(vendor) => self.vendor_href(vendor),
            FormPage::Status => self.status_href(),
            FormPage::Deliveries => self.deliveries_href(),
        }
    }

    /// The tenant's frame (navigation included) for a refusal page; `None` if even the
    /// tenant cannot be read (the page then has the signed-out frame).
    async fn frame(&self) -> Option<super::pages::Layout> {
        let config = self
            .console
            .app
            .store()
            .get_tenant(&self.session.tenant)
            .await
            .ok()
            .flatten()?;
        let vendors: Vec<VendorId> = config.vendors.keys().copied().collect();
        Some(self.layout("", &vendors, "", None))
    }

    // ------------------------------------------------------------------ reading

    /// The tenant as stored now: configuration and secrets read afresh (a console shows
    /// what another function, such as the OAuth redirect, just wrote).
    async fn tenant(&self) -> Result<Tenant, AppError> {
        let tenants = self.console.app.tenants();
        tenants.invalidate(&self.session.tenant);
        tenants.tenant(&self.session.tenant).await
    }

    fn worker(&self) -> Worker<'_> {
        self.console.app.worker(Deadline::after(LEVER_BUDGET))
    }

    fn vendor_href(&self, vendor: VendorId) -> String {
        format!("{}/vendors/{vendor}", self.overview)
    }

    fn status_href(&self) -> String {
        format!("{}/status", self.overview)
    }

    fn layout(
        &self,
        title: &str,
        vendors: &[VendorId],
        current: &str,
        notice: Option<String>,
    ) -> super::pages::Layout {
        let mut nav = vec![NavLink {
            href: self.overview.clone(),
            text: "Overview".into(),
            current: current == "overview",
        }];
        for vendor in vendors {
            nav.push(NavLink {
                href: self.vendor_href(*vendor),
                text: vendor_name(*vendor).into(),
                current: current == vendor.as_str(),
            });
        }
        nav.push(NavLink {
            href: self.status_href(),
            text: "Status".into(),
            current: current == "status",
        });
        nav.push(NavLink {
            href: self.deliveries_href(),
            text: "Deliveries".into(),
            current: current == "deliveries",
        });
        if let Some(page) = &self.console.app.settings.local_lever_page {
            nav.push(NavLink {
                href: format!("{page}/{}", self.session.tenant),
                text: "Lever (local)".into(),
                current: false,
            });
        }
        super::pages::Layout {
            title: title.to_owned(),
            root: self.console.root.clone(),
            tenant: Some(self.session.tenant.to_string()),
            csrf: Some(self.session.csrf_token()),
            nav,
            notice,
            problem: None,
        }
    }

    /// [`Page::layout`] of a page of `tenant`, showing `shown`'s notice and problem.
    fn frame_of(
        &self,
        title: &str,
        tenant: &Tenant,
        current: &str,
        shown: &mut Shown<'_>,
    ) -> super::pages::Layout {
        let vendors: Vec<VendorId> = tenant.config.vendors.keys().copied().collect();
        let mut layout = self.layout(title, &vendors, current, shown.notice.take());
        layout.problem = shown.problem.take();
        layout
    }

    /// Creates the tenant's secret document, empty, if it has none yet (a tenant the operator
    /// created with its configuration alone): everything the console stores goes there.
    async fn ensure_secret(&self) -> Result<(), AppError> {
        let source = self.console.app.secrets().source();
        let tenant = self.session.tenant.as_str();
        match source.load(tenant).await {
            Err(crate::secrets::SecretsError::NotFound(_)) => {
                source.put_document(tenant, &serde_json::json!({})).await?;
                tracing::info!(tenant, "tenant secret created for the console");
                Ok(())
            }
            Err(other) => Err(other.into()),
            Ok(_) => Ok(()),
        }
    }

    fn redirect(&self, to: &str) -> Result<Response<Body>, Refusal> {
        Ok(self.console.redirect(to))
    }

    // ------------------------------------------------------------------ pages

    async fn overview_page(&self, mut shown: Shown<'_>) -> Result<Response<Body>, Refusal> {
        let tenant = self.tenant().await?;
        let app = self.console.app;
        let health = app.store().webhook_health(tenant.id()).await?;
        let states = admin::integration_states(&tenant, health.as_ref(), app.vendors());
        let worker = self.worker();
        let checks = futures::future::join_all(
            tenant
                .config
                .vendors
                .keys()
                .map(|vendor| lever_stages(&worker, &tenant, *vendor)),
        )
        .await;
        let integrations = tenant
            .config
            .vendors
            .iter()
            .zip(checks)
            .map(|((vendor, integration), stages)| IntegrationRow {
                vendor: vendor_name(*vendor).into(),
                href: self.vendor_href(*vendor),
                enabled: integration.enabled,
                credential: credential_text(&tenant, *vendor, integration),
                check: check_of(&stages),
                trigger: trigger_text(
                    app.vendors().get(*vendor).map(|v| v.description),
                    integration,
                ) + &shared_with(&tenant, *vendor, integration),
                webhook: states
                    .iter()
                    .find(|s| s.vendor == *vendor)
                    .map_or_else(String::new, |s| s.webhook.clone()),
            })
            .collect();
        let typed = |name| {
            shown
                .typed
                .and_then(|form| form.get(name))
                .unwrap_or_default()
        };
        let addable = VendorId::ALL
            .iter()
            .copied()
            .filter(|v| !tenant.config.vendors.contains_key(v) && app.vendors().get(*v).is_some())
            .map(|v| Choice {
                value: v.to_string(),
                text: vendor_name(v).into(),
                selected: typed("vendor") == v.as_str(),
            })
            .collect();
        let add_api_base = typed("api_base").to_owned();
        let attention = attention_banner(&admin::held_orders(&worker, &tenant, None).await?);
        let page = OverviewPage {
            layout: self.frame_of("Overview", &tenant, "overview", &mut shown),
            tenant: tenant.id().to_string(),
            csrf: self.session.csrf_token(),
            integrations,
            addable,
            add_action: format!("{}/vendors", self.overview),
            add_api_base,
            attention,
        };
        Ok(self.console.page(shown.status, &page))
    }

    async fn vendor_page(
        &self,
        vendor: VendorId,
        mut shown: Shown<'_>,
    ) -> Result<Response<Body>, Refusal> {
        let tenant = self.tenant().await?;
        let integration = integration(&tenant, vendor)?;
        let description = description(self.console, vendor)?;
        let worker = self.worker();
        let stages = lever_stages(&worker, &tenant, vendor).await;
        let health = self.console.app.store().webhook_health(tenant.id()).await?;
        // The refused settings form's values, else what is stored.
        let typed = shown.typed;
        let typed_stage = typed.map(|form| form.get("trigger_stage").unwrap_or_default().trim());
        let stage = (description.trigger == Trigger::StageChange).then(|| StageSection {
            options: stages
                .as_ref()
                .map(|stages| {
                    stages
                        .iter()
                        .map(|s| Choice {
                            value: s.id.clone(),
                            text: s.text.clone(),
                            selected: match typed_stage {
                                Some(id) => id == s.id,
                                None => integration
                                    .trigger_stage
                                    .as_ref()
                                    .is_some_and(|t| t.matches(&s.id, Some(&s.text))),
                            },
                        })
                        .collect()
                })
                .unwrap_or_default(),
            problem: stages.as_ref().err().map(|e| e.text.clone()),
            current: integration
                .trigger_stage
                .as_ref()
                .map_or("none".into(), ToString::to_string),
        });
        let package = (description.package == PackageRule::Required).then(|| match typed {
            Some(form) => {
                let field = |name| form.get(name).unwrap_or_default().to_owned();
                PackageSection {
                    tag_prefix: field("tag_prefix"),
                    default_id: field("default_id"),
                    default_name: field("default_name"),
                    catalog: field("catalog"),
                }
            }
            None => {
                let rules = &integration.package;
                PackageSection {
                    tag_prefix: description
                        .package_tag_prefix(rules.tag_prefix.as_deref())
                        .unwrap_or_default()
                        .to_owned(),
                    default_id: rules
                        .default
                        .as_ref()
                        .map(|p| p.id.clone())
                        .unwrap_or_default(),
                    default_name: rules
                        .default
                        .as_ref()
                        .and_then(|p| p.name.clone())
                        .unwrap_or_default(),
                    catalog: rules
                        .catalog
                        .iter()
                        .map(|p| format!("{}, {}", p.id, p.name.as_deref().unwrap_or_default()))
                        .collect::<Vec<_>>()
                        .join("\n"),
                }
            }
        });
        let webhooks = webhook_health::needed([(&vendor, integration)], self.console.app.vendors())
            .into_iter()
            .map(|kind| {
                let event = kind.event_name();
                let state = health
                    .as_ref()
                    .and_then(|h| h.webhooks.iter().find(|w| w.event == event))
                    .map_or("not checked yet".into(), |w| match &w.state {
                        WebhookStatus::Registered => "registered".into(),
                        WebhookStatus::Missing => "missing".into(),
                        WebhookStatus::Unknown(why) => format!("unknown ({why})"),
                    });
                WebhookRow {
                    event,
                    name: kind.display_name(),
                    state,
                    token_stored: tenant.secrets.webhook_token(event).is_some(),
                }
            })
            .collect();
        let own = tenant.secrets.vendor(vendor);
        let mut callback_url = format!("{}/callbacks/{vendor}/{}", self.console.base, tenant.id());
        if description.callback_auth == crate::vendors::CallbackAuth::UrlSecret {
            callback_url.push_str("/<your callback URL secret>");
        }
        let href = self.vendor_href(vendor);
        let (enabled, api_base) = match typed {
            Some(form) => (
                form.get("enabled") == Some("yes"),
                form.get("api_base").unwrap_or_default().to_owned(),
            ),
            None => (integration.enabled, integration.api_base.clone()),
        };
        let shares = match typed {
            Some(form) => form.get("shares_trigger_stage") == Some("yes"),
            None => integration.shares_trigger_stage,
        };
        let asked = shown
            .problem
            .as_ref()
            .is_some_and(|p| p.field == Some("shares-trigger-stage"));
        let shares_trigger_stage = (shares || asked).then_some(shares);
        let page = VendorPage {
            layout: self.frame_of(vendor_name(vendor), &tenant, vendor.as_str(), &mut shown),
            csrf: self.session.csrf_token(),
            vendor_name: vendor_name(vendor).into(),
            service: description.service.into(),
            enabled,
            stored_enabled: integration.enabled,
            api_base,
            actions: VendorActions {
                lever_key: format!("{href}/lever-key"),
                connect: format!("{href}/connect"),
                credentials: format!("{href}/credentials"),
                settings: format!("{href}/settings"),
                webhooks: format!("{href}/webhooks"),
                rotate: format!("{href}/rotate"),
                delete: format!("{href}/delete"),
            },
            lever: LeverSection {
                credential: credential_text(&tenant, vendor, integration),
                check: check_of(&stages),
                oauth_first: description.lever_access == LeverAccess::AuthorizedApp,
            },
            credentials: description
                .credentials
                .iter()
                .map(|field| CredentialInput {
                    id: format!("cred-{}", field.name),
                    name: field.name,
                    label: field.label,
                    help: field.help,
                    stored: own.is_some_and(|s| s.is_set(field.name)),
                })
                .collect(),
            callback_url,
            callback_setup: description.callback_setup,
            stage,
            shares_trigger_stage,
            package,
            webhooks,
        };
        Ok(self.console.page(shown.status, &page))
    }

    async fn status_page(
        &self,
        mut shown: Shown<'_>,
        opportunity: Option<&str>,
    ) -> Result<Response<Body>, Refusal> {
        let tenant = self.tenant().await?;
        let app = self.console.app;
        let store = app.store();
        let health = store.webhook_health(tenant.id()).await?;
        let safety_net = store.safety_net(tenant.id()).await?;
        let confidential = store.confidential_refusal(tenant.id()).await?;
        let mut open: Vec<Order> = store
            .quiet_open_orders(self.console.now + 1, OPEN_ORDERS_SCANNED)
            .await?
            .into_iter()
            .filter(|o| o.tenant_id() == tenant.id())
            .collect();
        open.sort_by_key(|o| std::cmp::Reverse(o.created_at()));
        let lookup_value = opportunity.map(str::trim).unwrap_or_default().to_owned();
        let lookup = match opportunity.map(str::trim).filter(|o| !o.is_empty()) {
            None => None,
            Some(id) => match OpportunityId::parse(id) {
                Ok(id) => Some(
                    store
                        .orders_for_opportunity(tenant.id(), &id)
                        .await?
                        .iter()
                        .map(|o| self.order_row(o, &tenant))
                        .collect(),
                ),
                Err(_) => Some(Vec::new()),
            },
        };
        let (dead, dead_problem) = match app.queue().dead_letters(DEAD_LETTERS_READ).await {
            Ok(letters) => (
                letters
                    .into_iter()
                    .filter_map(|letter| {
                        let work = letter.work()?;
                        (work.tenant() == tenant.id()).then(|| DeadRow {
                            message_id: letter.message_id.clone(),
                            kind: work.kind().into(),
                            about: work_about(&work),
                            attempts: letter.attempts.map_or("-".into(), |a| a.to_string()),
                            last_error: letter.last_error.clone().unwrap_or_else(|| {
                                "(moved by the queue: the worker never finished)".into()
                            }),
                        })
                    })
                    .collect(),
                None,
            ),
            Err(error) => {
                tracing::warn!(%error, "console could not read the dead-letter queue");
                (
                    Vec::new(),
                    Some("The dead-letter queue could not be read just now; reload later.".into()),
                )
            }
        };
        let page = StatusPage {
            layout: self.frame_of("Status", &tenant, "status", &mut shown),
            tenant: tenant.id().to_string(),
            csrf: self.session.csrf_token(),
            health_checked_at: health.as_ref().map(|h| Moment::at(h.checked_at)),
            attention: attention_banner(
                &open
                    .iter()
                    .filter(|o| o.attention().is_some())
                    .cloned()
                    .collect::<Vec<_>>(),
            ),
            resume_action: format!("{}/resume", self.status_href()),
            safety_net: admin::safety_net_summary(safety_net.as_ref()),
            safety_net_ok: safety_net.is_none_or(|run| run.found() == 0),
            safety_net_ran: safety_net.is_some(),
            confidential_refused: confidential.map(|refusal| {
                format!(
                    "Lever refused access to a confidential posting's candidate for {} (last \
                     on {}): nothing was ordered for that candidate. Give the integration's \
                     API key access to confidential data in Lever (Settings › Integrations \
                     and API), or reconnect the authorized app.",
                    vendor_name(refusal.vendor),
                    utc_timestamp(refusal.at)
                )
            }),
            health: health
                .map(|h| {
                    h.webhooks
                        .into_iter()
                        .map(|w| {
                            let (state, ok) = match w.state {
                                WebhookStatus::Registered => ("registered".to_owned(), true),
                                WebhookStatus::Missing => {
                                    ("missing: register it again".into(), false)
                                }
                                WebhookStatus::Unknown(why) => (format!("unknown ({why})"), false),
                            };
                            HealthRow {
                                event: WebhookKind::from_event_name(&w.event)
                                    .map_or(w.event, |kind| kind.display_name().to_owned()),
                                state,
                                ok,
                            }
                        })
                        .collect()
                })
                .unwrap_or_default(),
            check_action: format!("{}/check", self.status_href()),
            status_action: self.status_href(),
            orders: open.iter().map(|o| self.order_row(o, &tenant)).collect(),
            lookup_value,
            lookup,
            dead,
            dead_problem,
            retry_action: format!("{}/retry", self.status_href()),
            recent: self.recent_deliveries(&tenant).await?,
            deliveries_href: self.deliveries_href(),
        };
        Ok(self.console.page(shown.status, &page))
    }

    /// The candidate of `opportunity` in Lever (locally, on the local Lever page).
    fn lever_href(&self, tenant: &Tenant, opportunity: &str) -> Option<String> {
        match &self.console.app.settings.local_lever_page {
            Some(page) => Some(format!("{page}/{}#c-{opportunity}", tenant.id())),
            None => lever_candidate_url(&tenant.config.lever_api_base, opportunity),
        }
    }

    /// An order as the status page lists it: the candidate by name with a link to them in
    /// Lever, the status in the words of Lever's note.
    fn order_row(&self, order: &Order, tenant: &Tenant) -> OrderRow {
        let description = self
            .console
            .app
            .vendors()
            .get(order.vendor())
            .map(|v| v.description);
        let status = order.status().map_or_else(
            || match order.attention() {
                Some(_) => "needs attention".to_owned(),
                None => "-".to_owned(),
            },
            |word| {
                description
                    .and_then(|d| d.status(word))
                    .map_or(word, |status| status.label)
                    .to_owned()
            },
        );
        let opportunity = order.opportunity_id().as_str();
        let lever_href = self.lever_href(tenant, opportunity);
        OrderRow {
            vendor: vendor_name(order.vendor()).into(),
            candidate: order
                .candidate_name()
                .unwrap_or("(name not recorded)")
                .to_owned(),
            opportunity: opportunity.to_owned(),
            lever_href,
            vendor_order: order
                .vendor_order_id()
                .unwrap_or("not placed yet")
                .to_owned(),
            phase: match order.phase() {
                OrderPhase::Pending if order.attention().is_some() => "needs attention",
                OrderPhase::Pending => "placing",
                OrderPhase::Open => "open",
                OrderPhase::Closed => "closed",
            }
            .into(),
            status,
            created: Moment::at(order.created_at()),
            vendor_updated: order.vendor_updated_at().map(Moment::at),
            problem: match order.attention() {
                Some(attention) => format!("needs attention: {}", attention.cause),
                None => order.problem().unwrap_or_default().to_owned(),
            },
        }
    }

    // ------------------------------------------------------------------ actions

    async fn add_vendor(&self, form: &Form) -> Result<Response<Body>, Refusal> {
        let vendor = form
            .text("vendor")
            .and_then(VendorId::parse)
            .filter(|v| self.console.app.vendors().get(*v).is_some())
            .ok_or_else(|| field("add-vendor", "Choose a vendor."))?;
        let api_base = self.api_base(form, "add-api-base")?;
        let store = self.console.app.store();
        let mut config = store
            .get_tenant(&self.session.tenant)
            .await?
            .ok_or(AppError::NotFound("tenant"))?;
        if config.vendors.contains_key(&vendor) {
            return Err(Refusal::Form(format!(
                "{} is already set up.",
                vendor_name(vendor)
            )));
        }
        config.vendors.insert(
            vendor,
            Integration {
                enabled: false,
                api_base,
                trigger_stage: None,
                package: PackageSettings::default(),
                lever_access_revoked: None,
                on_completion: None,
                shares_trigger_stage: false,
            },
        );
        store.put_tenant(&config).await?;
        self.console.app.tenants().invalidate(&self.session.tenant);
        self.redirect(&format!("{}?notice=added", self.vendor_href(vendor)))
    }

    async fn save_lever_key(
        &self,
        vendor: VendorId,
        form: &Form,
    ) -> Result<Response<Body>, Refusal> {
        let tenant = self.tenant().await?;
        integration(&tenant, vendor)?;
        let key = form
            .text("api_key")
            .ok_or_else(|| field("lever-key", "Paste the API key Lever generated."))?;
        self.ensure_secret().await?;
        let replace_anyway = form.get("replace_anyway") == Some("yes");
        admin::connect_api_key(
            &self.worker(),
            self.console.app.secrets(),
            &tenant,
            Some(vendor),
            key,
            replace_anyway,
        )
        .await
        .map_err(|error| match error {
            // The key itself is what is wrong: say so under its field.
            AppError::BadRequest(detail) => field("lever-key", &detail),
            other => other.into(),
        })?;
        self.redirect(&format!("{}?notice=lever-key", self.vendor_href(vendor)))
    }

    /// Makes the authorize link and hands it over on a page: a redirect to Lever would be
    /// the form post's own navigation, which `form-action 'self'` refuses to take elsewhere.
    async fn connect_oauth(&self, vendor: VendorId) -> Result<Response<Body>, Refusal> {
        let tenant = self.tenant().await?;
        integration(&tenant, vendor)?;
        self.ensure_secret().await?;
        let app = self.console.app;
        let oauth_apps = app.oauth_apps().await?;
        let link = oauth::authorize_link(
            app.store().as_ref(),
            app.store().as_ref(),
            &oauth_apps,
            tenant.id(),
            Some(vendor),
        )
        .await?;
        let name = vendor_name(vendor);
        let page = MessagePage {
            layout: self.frame_of(
                "Connect with Lever",
                &tenant,
                vendor.as_str(),
                &mut Shown::default(),
            ),
            heading: format!("Connect {name} with Lever"),
            paragraphs: vec![
                format!(
                    "Lever asks a Super Admin of your Lever account to authorize the app for \
                     {name}, then brings you back here. The link works once, within {} minutes.",
                    oauth::STATE_TTL_MS / 60_000
                ),
                revoking(&oauth_apps, vendor, name),
            ],
            link: Some(Link {
                href: link,
                text: "Continue to Lever".into(),
            }),
        };
        Ok(self.console.page(StatusCode::OK, &page))
    }

    async fn save_credentials(
        &self,
        vendor: VendorId,
        form: &Form,
    ) -> Result<Response<Body>, Refusal> {
        let tenant = self.tenant().await?;
        integration(&tenant, vendor)?;
        let description = description(self.console, vendor)?;
        let mut given = Vec::new();
        for field in description.credentials {
            let Some(value) = form.text(field.name) else {
                continue;
            };
            if field.name == "callback_secret" {
                check_secret(description.callback_auth, value).map_err(|problem| {
                    Refusal::Field {
                        field: "cred-callback_secret",
                        message: format!("{}: {problem}.", field.label),
                    }
                })?;
            }
            given.push((field.name, value));
        }
        if given.is_empty() {
            return Err(Refusal::Form(
                "Nothing to save: fill in the fields to change.".into(),
            ));
        }
        // The account's credentials (not the callback secret, which only we check) are tried
        // on the vendor before they replace what is stored.
        let account: Vec<(&str, &str)> = given
            .iter()
            .filter(|(name, _)| *name != "callback_secret")
            .map(|(name, value)| (*name, *value))
            .collect();
        if let Some((first, _)) = account.first() {
            admin::verify_vendor_credentials(&self.worker(), &tenant, vendor, &account)
                .await
                .map_err(|error| match error {
                    AppError::BadRequest(detail) => Refusal::Field {
                        field: credential_input(first),
                        message: super::sentence(&detail),
                    },
                    other => other.into(),
                })?;
        }
        self.ensure_secret().await?;
        let source = self.console.app.secrets().source();
        for (name, value) in given {
            let document = if name == "callback_secret" {
                // The previous secret keeps working a day, for callbacks already on their way.
                let previous = tenant
                    .secrets
                    .vendor(vendor)
                    .and_then(|s| s.callback_secret.as_ref())
                    .map(|s| s.current.expose_secret().to_owned());
                match previous {
                    Some(previous) => serde_json::json!({
                        "current": value,
                        "previous": previous,
                        "previous_expires_at": self.console.now + CALLBACK_SECRET_GRACE_MS,
                    }),
                    None => serde_json::json!({ "current": value }),
                }
            } else {
                serde_json::json!(value)
            };
            source
                .set_field(
                    tenant.id().as_str(),
                    &["vendors", vendor.as_str(), name],
                    document,
                )
                .await
                .map_err(AppError::from)?;
        }
        self.console.app.tenants().invalidate(tenant.id());
        // Orders held because the vendor refused the old credentials go now.
        let tenant = self.tenant().await?;
        let resumed =
            admin::resume_held(&self.worker(), &tenant, Some(vendor), self.console.base).await?;
        self.redirect(&format!(
            "{}?notice=credentials&placed={}&held={}",
            self.vendor_href(vendor),
            resumed.placed,
            resumed.still_held
        ))
    }

    async fn save_settings(
        &self,
        vendor: VendorId,
        form: &Form,
    ) -> Result<Response<Body>, Refusal> {
        let tenant = self.tenant().await?;
        integration(&tenant, vendor)?;
        let description = description(self.console, vendor)?;
        let api_base = self.api_base(form, "api-base")?;
        // A stage chosen now is looked up in Lever after the setup rules have passed (one
        // of them: the Lever credential that reading Lever's stages needs).
        let (trigger_stage, chosen) = match form.get("trigger_stage").map(str::trim) {
            _ if description.trigger != Trigger::StageChange => (None, false),
            None => (integration(&tenant, vendor)?.trigger_stage.clone(), false),
            Some("") => (None, false),
            Some(id) => (
                Some(StageRef {
                    id: Some(id.to_owned()),
                    name: None,
                }),
                true,
            ),
        };
        let package = (description.package == PackageRule::Required)
            .then(|| package_rules(form))
            .transpose()?;
        let store = self.console.app.store();
        let mut config = store
            .get_tenant(tenant.id())
            .await?
            .ok_or(AppError::NotFound("tenant"))?;
        let Some(stored) = config.vendors.get_mut(&vendor) else {
            return Err(AppError::NotFound("integration").into());
        };
        stored.enabled = form.get("enabled") == Some("yes");
        stored.api_base = api_base;
        stored.trigger_stage = trigger_stage;
        stored.shares_trigger_stage = form.get("shares_trigger_stage") == Some("yes");
        if let Some(package) = package {
            stored.package = package;
        }
        // The settings as a whole, by the rules the command applies: this integration's
        // problems refuse the save (another's are its own page's business).
        let problems =
            setup::settings_problems(&config, self.console.app.vendors(), Some(&tenant.secrets));
        if let Some(problem) = problems.iter().find(|p| p.vendor == Some(vendor)) {
            let input = match problem.field {
                setup::Field::ApiBase => "api-base",
                setup::Field::TriggerStage => "stage",
                setup::Field::SharesTriggerStage => "shares-trigger-stage",
                _ => "enabled",
            };
            return Err(field(input, &problem.message));
        }
        let chosen = config
            .vendors
            .get_mut(&vendor)
            .and_then(|stored| stored.trigger_stage.as_mut())
            .filter(|_| chosen);
        if let Some(stage) = chosen {
            let stages = lever_stages(&self.worker(), &tenant, vendor)
                .await
                .map_err(|check| {
                    field(
                        "stage",
                        &format!("Lever's stages could not be read: {}", check.text),
                    )
                })?;
            setup::resolve_stage(stage, &stages).map_err(|problem| field("stage", &problem))?;
        }
        store.put_tenant(&config).await?;
        self.console.app.tenants().invalidate(tenant.id());
        // Orders held because the vendor refused a setting (the package) go now.
        let tenant = self.tenant().await?;
        let resumed = match tenant
            .config
            .integration(vendor)
            .is_some_and(|i| i.is_active())
        {
            true => {
                admin::resume_held(&self.worker(), &tenant, Some(vendor), self.console.base).await?
            }
            false => admin::Resumed::default(),
        };
        self.redirect(&format!(
            "{}?notice=settings&placed={}&held={}",
            self.vendor_href(vendor),
            resumed.placed,
            resumed.still_held
        ))
    }

    async fn register_webhooks(&self, vendor: VendorId) -> Result<Response<Body>, Refusal> {
        let tenant = self.tenant().await?;
        if !integration(&tenant, vendor)?.enabled {
            return Err(Refusal::Form(
                "Enable the integration first (Settings), then register its webhooks.".into(),
            ));
        }
        self.ensure_secret().await?;
        let worker = self.worker();
        let app = self.console.app;
        let done = admin::register_webhooks(
            &worker,
            app.secrets(),
            &tenant,
            Some(vendor),
            self.console.base,
        )
        .await?;
        // Record what Lever has now, so the pages show it at once.
        let tenant = self.tenant().await?;
        if let Err(error) = webhook_health::check(&worker, &tenant).await {
            tracing::warn!(%error, "webhook check after registering failed");
        }
        let created = done.iter().filter(|r| r.action == "created").count();
        let kept = done.len() - created;
        self.redirect(&format!(
            "{}?notice=webhooks&created={created}&kept={kept}",
            self.vendor_href(vendor)
        ))
    }

    async fn rotate_token(&self, vendor: VendorId, form: &Form) -> Result<Response<Body>, Refusal> {
        let tenant = self.tenant().await?;
        let integration = integration(&tenant, vendor)?;
        let needed = webhook_health::needed([(&vendor, integration)], self.console.app.vendors());
        let kind = form
            .text("event")
            .and_then(WebhookKind::from_event_name)
            .filter(|kind| needed.contains(kind))
            .ok_or_else(|| field("rotate-event", "Choose one of this integration's webhooks."))?;
        self.ensure_secret().await?;
        let worker = self.worker();
        admin::rotate_webhook_token(
            &worker,
            self.console.app.secrets(),
            &tenant,
            kind,
            self.console.base,
            Duration::from_secs(24 * 3600),
        )
        .await?;
        self.redirect(&format!("{}?notice=rotated", self.vendor_href(vendor)))
    }

    async fn delete(&self, vendor: VendorId, form: &Form) -> Result<Response<Body>, Refusal> {
        if form.get("confirm") != Some("yes") {
            return Err(field(
                "confirm-delete",
                "Tick the box to confirm the deletion.",
            ));
        }
        let tenant = self.tenant().await?;
        integration(&tenant, vendor)?;
        let worker = self.worker();
        let deleted =
            admin::delete_integration(&worker, self.console.app.secrets(), &tenant, vendor).await?;
        if deleted.webhooks_left.is_empty() {
            return self.redirect(&format!("{}?notice=deleted", self.overview));
        }
        // Only event names, checked again when the notice is shown: nothing else is echoed.
        self.redirect(&format!(
            "{}?notice=deleted-left&left={}",
            self.overview,
            deleted.webhooks_left.join(",")
        ))
    }

    /// Places the held orders again (after the admin fixed what the vendor refused).
    async fn resume(&self) -> Result<Response<Body>, Refusal> {
        let tenant = self.tenant().await?;
        let resumed = admin::resume_held(&self.worker(), &tenant, None, self.console.base).await?;
        self.redirect(&format!(
            "{}?notice=resumed&placed={}&held={}&left={}",
            self.status_href(),
            resumed.placed,
            resumed.still_held,
            resumed.left
        ))
    }

    async fn check_webhooks(&self) -> Result<Response<Body>, Refusal> {
        let tenant = self.tenant().await?;
        webhook_health::check(&self.worker(), &tenant).await?;
        self.redirect(&format!("{}?notice=checked", self.status_href()))
    }

    async fn retry(&self, form: &Form) -> Result<Response<Body>, Refusal> {
        let id = form
            .text("message_id")
            .ok_or_else(|| Refusal::Form("Choose the work to retry.".into()))?;
        let queue = self.console.app.queue();
        let letters = queue
            .dead_letters(DEAD_LETTERS_READ)
            .await
            .map_err(AppError::from)?;
        // Only this tenant's work: anything else is indistinguishable from none.
        let ours = letters.iter().any(|letter| {
            letter.message_id == id
                && letter
                    .work()
                    .is_some_and(|work| work.tenant() == &self.session.tenant)
        });
        if !ours {
            return Err(AppError::NotFound("dead letter").into());
        }
        let moved = queue.redrive(Some(id)).await.map_err(AppError::from)?;
        if moved == 0 {
            return Err(AppError::NotFound("dead letter").into());
        }
        self.redirect(&format!("{}?notice=retried", self.status_href()))
    }

    /// A vendor API base from the form (its input's id is `input`), by the setup rule the
    /// command applies too: https, or http to a loopback host (the local simulators).
    fn api_base(&self, form: &Form, input: &'static str) -> Result<String, Refusal> {
        let value = form
            .text("api_base")
            .ok_or_else(|| field(input, "Give the vendor's API base URL."))?;
        if let Some(problem) = setup::api_base_problem(value) {
            return Err(field(input, &format!("The API base URL {problem}")));
        }
        Ok(value.trim_end_matches('/').to_owned())
    }
}

/// The package rules a settings form gives.
fn package_rules(form: &Form) -> Result<PackageSettings, Refusal> {
    let default = match (form.text("default_id"), form.text("default_name")) {
        (Some(id), name) => Some(Package {
            id: id.to_owned(),
            name: name.map(str::to_owned),
        }),
        (None, Some(_)) => return Err(field("default-id", "The default package needs its id.")),
        (None, None) => None,
    };
    let mut catalog = Vec::new();
    for line in form.get("catalog").unwrap_or_default().lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        // Both halves are needed: a line without its name would list an unnamed package.
        let Some((id, name)) = line
            .split_once(',')
            .map(|(id, name)| (id.trim(), name.trim()))
            .filter(|(id, name)| !id.is_empty() && !name.is_empty())
        else {
            return Err(Refusal::Field {
                field: "catalog",
                message: format!(
                    "Catalog line {line:?}: write the package's id, a comma, then its name."
                ),
            });
        };
        catalog.push(Package {
            id: id.to_owned(),
            name: Some(name.to_owned()),
        });
    }
    Ok(PackageSettings {
        tag_prefix: form.text("tag_prefix").map(str::to_owned),
        default,
        catalog,
    })
}

/// The `id` of a credential's input (`cred-{name}`).
fn credential_input(name: &str) -> &'static str {
    match name {
        "api_key" => "cred-api_key",
        "client_id" => "cred-client_id",
        "client_secret" => "cred-client_secret",
        "username" => "cred-username",
        "password" => "cred-password",
        _ => "cred-callback_secret",
    }
}

/// A refusal about one input of the form (its `id`).
fn field(input: &'static str, message: &str) -> Refusal {
    Refusal::Field {
        field: input,
        message: super::sentence(message),
    }
}

fn vendor_id(segment: &str) -> Result<VendorId, Refusal> {
    VendorId::parse(segment).ok_or_else(|| AppError::NotFound("vendor").into())
}

fn integration(tenant: &Tenant, vendor: VendorId) -> Result<&Integration, AppError> {
    tenant
        .config
        .integration(vendor)
        .ok_or(AppError::NotFound("integration"))
}

fn description(
    console: &Console<'_>,
    vendor: VendorId,
) -> Result<&'static VendorDescription, AppError> {
    console
        .app
        .vendors()
        .get(vendor)
        .map(|v| v.description)
        .ok_or(AppError::NotFound("vendor"))
}

/// What recruiters call the vendor.
fn vendor_name(vendor: VendorId) -> &'static str {
    crate::vendors::description(vendor).name
}

/// What revoking the app in Lever stops: the vendor alone when it has its own app, or every
/// integration sharing the deployment's one app.
fn revoking(apps: &OAuthApps, vendor: VendorId, name: &str) -> String {
    if apps.is_shared(CredentialPath::Vendor(vendor)) {
        "This deployment uses one Lever app for several integrations: revoking it in Lever \
         (Settings › Integrations and API › Authorized Apps) stops every integration that \
         uses it."
            .to_owned()
    } else {
        format!(
            "In Lever it is an app of its own under Settings › Integrations and API › \
             Authorized Apps: revoking it there stops {name} alone."
        )
    }
}

/// Which Lever credential the integration uses, and its state.
fn credential_text(tenant: &Tenant, vendor: VendorId, integration: &Integration) -> String {
    let mut text = match tenant.secrets.lever_credential(vendor) {
        None => "none yet".to_owned(),
        Some((path, credential)) => {
            let kind = match credential.kind() {
                "oauth" => "authorized app (OAuth)",
                "api key" => "API key",
                other => other,
            };
            match path {
                CredentialPath::Vendor(_) => format!("{kind}, its own"),
                CredentialPath::Tenant => format!("{kind}, tenant-wide"),
            }
        }
    };
    if let Some(revoked) = &integration.lever_access_revoked {
        text.push_str(&format!("; refused by Lever: {}", revoked.reason));
    }
    text
}

fn trigger_text(description: Option<&VendorDescription>, integration: &Integration) -> String {
    match description.map(|d| d.trigger) {
        Some(Trigger::ApplicationCreated) => "every new application".into(),
        _ => match &integration.trigger_stage {
            Some(StageRef {
                name: Some(name), ..
            }) => format!("move into {name}"),
            Some(StageRef { id: Some(id), .. }) => format!("move into stage {id}"),
            _ => "no stage chosen".into(),
        },
    }
}

/// ", also ordering Justifacts (confirmed)" when another enabled integration has the same
/// trigger stage and the admin confirmed one move orders both; else nothing.
fn shared_with(tenant: &Tenant, vendor: VendorId, integration: &Integration) -> String {
    let others: Vec<&str> = tenant
        .config
        .vendors
        .iter()
        .filter(|(other, o)| {
            **other != vendor
                && o.enabled
                && integration.enabled
                && (o.shares_trigger_stage || integration.shares_trigger_stage)
                && setup::same_stage(&o.trigger_stage, &integration.trigger_stage)
        })
        .map(|(other, _)| vendor_name(*other))
        .collect();
    if others.is_empty() {
        return String::new();
    }
    format!(
        ", also ordering {} (confirmed: one move orders both)",
        others.join(" and ")
    )
}

/// Lever's stages, read with the integration's own credential: also the live check that
/// Lever accepts it.
async fn lever_stages(
    worker: &Worker<'_>,
    tenant: &Tenant,
    vendor: VendorId,
) -> Result<Vec<Stage>, Check> {
    if tenant.secrets.lever_credential(vendor).is_none() {
        return Err(Check {
            ok: false,
            text: "not connected".into(),
        });
    }
    admin::lever_stages(worker, tenant, vendor)
        .await
        .map_err(|error| {
            let (_, text) = Refusal::App(error).explain();
            Check { ok: false, text }
        })
}

fn check_of(stages: &Result<Vec<Stage>, Check>) -> Check {
    match stages {
        Ok(_) => Check {
            ok: true,
            text: "Lever accepts it".into(),
        },
        Err(check) => Check {
            ok: check.ok,
            text: check.text.clone(),
        },
    }
}

/// `hire.lever.co` (or the sandbox's) for a candidate, when the tenant is on Lever itself.
fn lever_candidate_url(api_base: &str, opportunity: &str) -> Option<String> {
    let url = reqwest::Url::parse(api_base).ok()?;
    let app = match url.host_str()? {
        "api.lever.co" => "hire.lever.co",
        "api.sandbox.lever.co" => "hire.sandbox.lever.co",
        _ => return None,
    };
    Some(format!("https://{app}/candidates/{opportunity}"))
}

/// One sentence per vendor with held orders: how many, why, and what to do.
fn attention_banner(held: &[Order]) -> Vec<String> {
    let mut by_vendor: std::collections::BTreeMap<VendorId, Vec<&Order>> = Default::default();
    for order in held {
        by_vendor.entry(order.vendor()).or_default().push(order);
    }
    by_vendor
        .into_iter()
        .filter_map(|(vendor, orders)| {
            let latest = orders
                .iter()
                .filter_map(|o| o.attention())
                .max_by_key(|a| a.since)?;
            Some(format!(
                "{} {} order(s) need attention: {}. {}.",
                orders.len(),
                vendor_name(vendor),
                latest.cause,
                latest.fix
            ))
        })
        .collect()
}

/// What a piece of work is about, by ids only.
fn work_about(work: &Work) -> String {
    match work {
        Work::LeverEvent { event, .. } => format!("candidate {}", event.opportunity()),
        Work::SyncLever { order, .. } => format!("order {order}"),
        Work::ReadVendorOrder {
            vendor,
            vendor_order_id,
            ..
        } => format!("{} order {vendor_order_id}", vendor_name(*vendor)),
    }
}

/// The sentence for `?notice=…` after an action: fixed texts, nothing echoed but counts.
/// "{what} saved", and what became of the held orders it resumed.
fn saved_and_resumed(what: &str, placed: u32, held: u32) -> String {
    match (placed, held) {
        (0, 0) => format!("{what} saved."),
        (placed, 0) => format!("{what} saved; {placed} held order(s) placed now."),
        (placed, held) => format!(
            "{what} saved; {placed} held order(s) placed, {held} still refused by the vendor."
        ),
    }
}

fn notice(
    code: Option<&str>,
    query: &lambda_http::aws_lambda_events::query_map::QueryMap,
) -> Option<String> {
    let count = |name: &str| -> u32 {
        query
            .first(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or_default()
    };
    Some(match code? {
        "added" => "Vendor added, switched off: connect Lever, fill in the account and the settings, then enable it.".into(),
        "lever-key" => "Lever API key saved. The check below is Lever's answer to it.".into(),
        "credentials" => saved_and_resumed("Credentials", count("placed"), count("held")),
        "resumed" => format!(
            "Held orders: {} placed, {} still refused by the vendor, {} not placed now (see each order).",
            count("placed"),
            count("held"),
            count("left")
        ),
        "settings" => saved_and_resumed("Settings", count("placed"), count("held")),
        "webhooks" => format!(
            "Webhooks registered in Lever: {} created, {} already there. Their signature tokens are stored.",
            count("created"),
            count("kept")
        ),
        "rotated" => "New signature token stored; the old one works for 24 more hours.".into(),
        "deleted" => "Integration deleted.".into(),
        "deleted-left" => {
            let left: Vec<&str> = query
                .first("left")
                .unwrap_or_default()
                .split(',')
                .filter_map(WebhookKind::from_event_name)
                .map(WebhookKind::display_name)
                .collect();
            format!(
                "Integration deleted: its settings and credentials are gone. Lever refused \
                 its credential (or could not be reached), so these webhooks are still in \
                 Lever: {}. Delete them by hand in Lever, Settings › Integrations and API › \
                 Webhooks.",
                left.join(", ")
            )
        }
        "checked" => "Lever's webhooks checked just now.".into(),
        "replayed" => "Replayed: its work is queued again. What it comes to shows here once the worker is done (reload).".into(),
        "replayed-dead" => "Replayed: its work left the dead-letter queue and is queued again. What it comes to shows here once the worker is done (reload).".into(),
        "retried" => "Sent back to the work queue: it is retried shortly.".into(),
        _ => return None,
    })
}
