//! The public pages of a tenant's service, served without a key under `/public/TENANT`: what
//! the service is, for whom and its limits, its filings (the algorithm filing number and each
//! model with its filing or launch number, regulation.md §e.7), how generated content is
//! labeled (Labeling Measures art. 8, from the gateway's own label settings), every version of
//! the service agreement, and the complaint and report entrance (Interim Measures art. 15):
//! an HTML form and the same route as a JSON API, each submission getting a ticket number and
//! its deadline, and leaving a `complaint` audit record.
//!
//! Pages are minijinja templates embedded in the binary (`templates/`), HTML-escaped. The
//! pages are in Chinese, with English where cheap. Submissions share one budget of
//! [`SUBMISSIONS_PER_SEC`], so a flood fills neither the tables nor the ledger.

pub(crate) mod config;
pub(crate) mod deadline;

use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use hegui_store::complaints::{ComplaintKind, ComplaintStatus, NewComplaint};
use hegui_store::ledger::schema::{Outcome, Verdicts};
use minijinja::{Environment, context};
use serde::{Deserialize, Serialize};

use self::config::PublicPages;
use crate::config::ExplicitText;
use crate::error::AppError;
use crate::gateway::Gateway;
use crate::guard::Caller;

/// Complaints accepted per second through the public pages, across every client and tenant.
pub(crate) const SUBMISSIONS_PER_SEC: u32 = 10;

/// The most a complaint's content may hold, in characters.
const MAX_CHARS: usize = 5_000;

/// The most a submission's body may hold, in bytes.
const MAX_BODY: usize = 64 * 1024;

/// The public routes, as axum paths (the auth layer's list of routes without a key).
pub(crate) const ROUTES: &[&str] = &[
    "/public/{tenant}",
    "/public/{tenant}/agreement",
    "/public/{tenant}/agreement/{version}",
    "/public/{tenant}/complaints",
    "/public/{tenant}/complaints/{ticket}",
];

/// The router of the public pages.
pub(crate) fn router() -> Router<Gateway> {
    Router::new()
        .route(ROUTES[0], get(index))
        .route(ROUTES[1], get(current_agreement))
        .route(ROUTES[2], get(agreement))
        .route(ROUTES[3], get(complaint_form).post(submit_complaint))
        .route(ROUTES[4], get(complaint_status))
}

fn templates() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in [
            ("base.html", include_str!("templates/base.html")),
            ("index.html", include_str!("templates/index.html")),
            ("agreement.html", include_str!("templates/agreement.html")),
            ("complaint_form.html", include_str!("templates/complaint_form.html")),
            (
                "complaint_received.html",
                include_str!("templates/complaint_received.html"),
            ),
            (
                "complaint_status.html",
                include_str!("templates/complaint_status.html"),
            ),
        ] {
            // The templates are part of the binary and parsed by a unit test.
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(template = name, error = %e, "a public page template does not parse");
            }
        }
        env
    })
}

fn render(name: &str, ctx: minijinja::Value) -> Response {
    match templates()
        .get_template(name)
        .and_then(|template| template.render(ctx))
    {
        Ok(html) => Html(html).into_response(),
        Err(e) => AppError::internal("rendering a public page", e).into_response(),
    }
}

/// The tenant's public pages, or 404.
fn pages<'a>(gateway: &'a Gateway, tenant: &str) -> Result<&'a PublicPages, AppError> {
    gateway.config().public_pages(tenant).ok_or_else(|| {
        AppError::new(
            StatusCode::NOT_FOUND,
            "unknown_service",
            format!("no public pages for `{tenant}`"),
        )
    })
}

/// The handling process and its published time limit, as the pages state it.
fn process(p: &PublicPages) -> String {
    let (unit, en) = if p.complaint_working_days {
        ("个工作日", "working days")
    } else {
        ("日", "days")
    };
    let days = p.complaint_days;
    format!(
        "受理后生成受理编号；我们在受理之日起 {days} {unit}内核实处理并答复，答复期限随受理编号一并告知。\
         处理过程全程留存记录。We answer within {days} {en} of receipt."
    )
}

/// `GET /public/{tenant}`.
async fn index(State(gateway): State<Gateway>, Path(tenant): Path<String>) -> Response {
    let p = match pages(&gateway, &tenant) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let config = gateway.config();
    let models: Vec<_> = config
        .upstreams
        .iter()
        .flat_map(|u| {
            u.models.iter().map(|m| {
                context! { name => m, filing => if u.filed { u.filing_number.as_str() } else { "" } }
            })
        })
        .collect();
    let label = &config.label;
    let text = match label.explicit_text {
        ExplicitText::Start => "开头",
        ExplicitText::End => "末尾",
        ExplicitText::Both => "开头和末尾",
        ExplicitText::Off => "",
    };
    let agreements: Vec<_> = p
        .agreements
        .iter()
        .map(|a| context! { version => a.version, title => a.title, effective => a.effective.to_string() })
        .collect();
    let current = p.current_agreement(gateway.today()).map(|a| {
        context! { version => a.version, title => a.title, effective => a.effective.to_string() }
    });
    render(
        "index.html",
        context! {
            tenant, p => public_context(p), models, agreements, current, process => process(p),
            label => context! {
                text, notice => label.notice, producer => label.producer,
                image => label.explicit_image, audio => label.explicit_audio,
                signed => label.key_file.is_some(),
            },
        },
    )
}

fn public_context(p: &PublicPages) -> minijinja::Value {
    context! {
        service => p.service, provider => p.provider, scope => p.scope, limits => p.limits,
        algorithm_filing => p.algorithm_filing, contact => p.contact,
    }
}

/// `GET /public/{tenant}/agreement`: the version in force today.
async fn current_agreement(State(gateway): State<Gateway>, Path(tenant): Path<String>) -> Response {
    let version = match pages(&gateway, &tenant) {
        Ok(p) => p
            .current_agreement(gateway.today())
            .map(|a| a.version.clone()),
        Err(e) => return e.into_response(),
    };
    match version {
        Some(version) => show_agreement(&gateway, &tenant, &version),
        None => AppError::new(
            StatusCode::NOT_FOUND,
            "no_agreement",
            "no version of the agreement is in force",
        )
        .into_response(),
    }
}

/// `GET /public/{tenant}/agreement/{version}`: any published version, kept.
async fn agreement(
    State(gateway): State<Gateway>,
    Path((tenant, version)): Path<(String, String)>,
) -> Response {
    show_agreement(&gateway, &tenant, &version)
}

fn show_agreement(gateway: &Gateway, tenant: &str, version: &str) -> Response {
    let p = match pages(gateway, tenant) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let Some(a) = p.agreements.iter().find(|a| a.version == version) else {
        return AppError::new(
            StatusCode::NOT_FOUND,
            "unknown_version",
            format!("no version `{version}` of the agreement"),
        )
        .into_response();
    };
    let is_current = p
        .current_agreement(gateway.today())
        .is_some_and(|c| c.version == a.version);
    let paragraphs: Vec<&str> = a
        .text
        .split("\n\n")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    render(
        "agreement.html",
        context! {
            tenant, p => public_context(p), is_current, paragraphs,
            a => context! { version => a.version, title => a.title, effective => a.effective.to_string() },
        },
    )
}

/// `GET /public/{tenant}/complaints`: the form.
async fn complaint_form(State(gateway): State<Gateway>, Path(tenant): Path<String>) -> Response {
    match pages(&gateway, &tenant) {
        Ok(p) => render(
            "complaint_form.html",
            context! { tenant, p => public_context(p), process => process(p), max_chars => MAX_CHARS },
        ),
        Err(e) => e.into_response(),
    }
}

/// Where a ticket stands, for its submitter: the state, the deadline and, once answered, the
/// answer (Interim Measures art. 15: feed the result back). The ticket number is the only key:
/// it is random and shown only to the submitter.
#[derive(Debug, Serialize)]
struct TicketStatus {
    ticket: String,
    kind: ComplaintKind,
    status: ComplaintStatus,
    /// 处理状态, in Chinese.
    status_zh: &'static str,
    deadline_ms: i64,
    deadline_provisional: bool,
    /// The answer, once answered.
    answer: String,
    answered_ms: Option<i64>,
}

/// `GET /public/{tenant}/complaints/{ticket}`: a page, or JSON for `Accept: application/json`.
async fn complaint_status(
    State(gateway): State<Gateway>,
    Path((tenant, ticket)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let p = match pages(&gateway, &tenant) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let found = if ticket.len() <= 64 && ticket.chars().all(|c| c.is_ascii_alphanumeric()) {
        match gateway.store().complaint(&tenant, &ticket).await {
            Ok(found) => found,
            Err(e) => return AppError::internal("reading the complaint", e).into_response(),
        }
    } else {
        None
    };
    let Some(c) = found else {
        return AppError::new(
            StatusCode::NOT_FOUND,
            "unknown_ticket",
            format!("no ticket `{ticket}`"),
        )
        .into_response();
    };
    let status = TicketStatus {
        status_zh: match c.status {
            ComplaintStatus::New => "已受理，待处理",
            ComplaintStatus::InProgress => "处理中",
            ComplaintStatus::Answered => "已答复",
            ComplaintStatus::Closed => "已办结",
        },
        ticket: c.ticket,
        kind: c.kind,
        status: c.status,
        deadline_ms: c.deadline_ms,
        deadline_provisional: c.deadline_provisional,
        answer: c.answer,
        answered_ms: c.answered_ms,
    };
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if wants_json {
        return axum::Json(status).into_response();
    }
    let deadline = crate::clock::beijing_rfc3339(status.deadline_ms);
    render(
        "complaint_status.html",
        context! { tenant, p => public_context(p), s => status, deadline => deadline.get(..10).unwrap_or_default() },
    )
}

/// A complaint or report, as the form or the JSON API sends it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Submission {
    /// `complaint` (default) or `report`.
    #[serde(default)]
    kind: Kind,
    content: String,
    /// The record id (ProduceID) of the answer concerned.
    #[serde(default)]
    record: String,
    #[serde(default)]
    contact: String,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    #[default]
    Complaint,
    Report,
}

/// What a submitter gets back.
#[derive(Debug, Serialize)]
struct Received {
    ticket: String,
    status: ComplaintStatus,
    /// The last day to answer (Beijing time), `YYYY-MM-DD`.
    deadline: String,
    deadline_ms: i64,
    /// The holiday schedule of the deadline's year is not published yet.
    deadline_provisional: bool,
    process: String,
    /// The audit record of the submission.
    record: String,
    /// Where the submitter follows the ticket (its state and, once answered, the answer).
    status_url: String,
}

/// `POST /public/{tenant}/complaints`: a form (answered with a page) or JSON (answered with
/// JSON): the ticket and its deadline.
async fn submit_complaint(
    State(gateway): State<Gateway>,
    Path(tenant): Path<String>,
    request: Request,
) -> Response {
    let addr = crate::routes::client_addr(&request)
        .map(|a| a.to_string())
        .unwrap_or_default();
    let (parts, body) = request.into_parts();
    let json = is_json(&parts.headers);
    match submit(&gateway, &tenant, &addr, json, body).await {
        Ok((_, received)) if json => (StatusCode::CREATED, axum::Json(received)).into_response(),
        Ok((p, received)) => {
            let page = render(
                "complaint_received.html",
                context! { tenant, p => public_context(p), r => received },
            );
            (StatusCode::CREATED, page).into_response()
        }
        Err(e) if json => e.into_response(),
        // A person sent the form: the form again, with what is wrong, in the page.
        Err(e) => match pages(&gateway, &tenant) {
            Ok(p) => {
                let page = render(
                    "complaint_form.html",
                    context! {
                        tenant, p => public_context(p), process => process(p),
                        max_chars => MAX_CHARS, error => e.message, code => e.code,
                    },
                );
                (e.status, page).into_response()
            }
            Err(_) => e.into_response(),
        },
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

async fn submit<'a>(
    gateway: &'a Gateway,
    tenant: &str,
    addr: &str,
    json: bool,
    body: Body,
) -> Result<(&'a PublicPages, Received), AppError> {
    let p = pages(gateway, tenant)?;
    if !gateway.inner.tracked.submission_allows() {
        return Err(AppError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many complaints are arriving at once; retry in a few seconds",
        ));
    }
    let bytes = crate::routes::read_body(gateway, body, MAX_BODY).await?;
    let submission: Submission = if json {
        serde_json::from_slice(&bytes).map_err(|e| {
            AppError::bad_request("invalid_json", format!("the complaint is not valid: {e}"))
        })?
    } else {
        serde_urlencoded::from_bytes(&bytes).map_err(|e| {
            AppError::bad_request("invalid_form", format!("the complaint is not valid: {e}"))
        })?
    };
    let content = submission.content.trim();
    let chars = content.chars().count();
    if chars == 0 {
        return Err(
            AppError::bad_request("missing_content", "`content` is required").param("content"),
        );
    }
    if chars > MAX_CHARS {
        return Err(AppError::bad_request(
            "content_too_long",
            format!("`content` has {chars} characters; at most {MAX_CHARS}"),
        )
        .param("content"));
    }
    for (field, value, most) in [
        ("record", &submission.record, 64),
        ("contact", &submission.contact, 200),
    ] {
        if value.chars().count() > most || value.chars().any(char::is_control) {
            return Err(AppError::bad_request(
                "invalid_field",
                format!("`{field}` must be at most {most} characters without control characters"),
            ));
        }
    }
    let deadline = deadline::deadline(gateway.now(), p.complaint_days, p.complaint_working_days)
        .map_err(|e| AppError::internal("computing the complaint deadline", e))?;
    let kind = match submission.kind {
        Kind::Complaint => ComplaintKind::Complaint,
        Kind::Report => ComplaintKind::Report,
    };
    let channel = if json { "api" } else { "web" };
    let complaint = gateway
        .store()
        .create_complaint(
            tenant,
            NewComplaint {
                kind: Some(kind),
                channel: channel.to_owned(),
                content: content.to_owned(),
                contact: submission.contact.trim().to_owned(),
                record_id: submission.record.trim().to_owned(),
                deadline_ms: deadline.ms,
                deadline_provisional: deadline.provisional,
            },
        )
        .await
        .map_err(|e| AppError::internal("recording the complaint", e))?;
    // The ledger says when it arrived and what it said, whatever happens to the row later.
    let mut text = format!("[{kind}] {content}");
    if !complaint.record_id.is_empty() {
        text.push_str(&format!("\n[record] {}", complaint.record_id));
    }
    if !complaint.contact.is_empty() {
        text.push_str(&format!("\n[contact] {}", complaint.contact));
    }
    let caller = Caller::new(
        tenant.to_owned(),
        std::time::Instant::now(),
        addr.to_owned(),
    );
    let received = Received {
        record: caller.record_id.as_str().to_owned(),
        ticket: complaint.ticket.clone(),
        status: complaint.status,
        deadline: deadline.date.to_string(),
        deadline_ms: deadline.ms,
        deadline_provisional: deadline.provisional,
        process: process(p),
        status_url: format!("/public/{tenant}/complaints/{}", complaint.ticket),
    };
    let record = gateway
        .record(&caller, "complaint", "")
        .request(text)
        .response(format!(
            "ticket {}; deadline {}{}",
            received.ticket,
            received.deadline,
            if deadline.provisional {
                " (provisional)"
            } else {
                ""
            }
        ))
        .verdicts(Verdicts::new(Vec::new()))
        .outcome(Outcome::Ok);
    gateway.audit(&caller, record).await?;
    Ok((p, received))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_parses() {
        let env = super::templates();
        for name in [
            "base.html",
            "index.html",
            "agreement.html",
            "complaint_form.html",
            "complaint_received.html",
            "complaint_status.html",
        ] {
            assert!(env.get_template(name).is_ok(), "{name}");
        }
    }
}
