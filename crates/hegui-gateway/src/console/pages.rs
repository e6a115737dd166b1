//! The console's pages and their forms. Each reads through the store or the admin API's
//! functions for the signed-in person's tenant, and each form calls the admin API's action
//! (`crate::admin`), which checks the role and writes the governance record.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::response::{IntoResponse as _, Redirect, Response};
use hegui_store::complaints::{ComplaintFilter, ComplaintStatus};
use hegui_store::ledger::schema::{Decision, Verdicts};
use hegui_store::ledger::search::Search;
use minijinja::{Value, context};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::session::{Console, read_form};
use super::{error_page, render};
use crate::admin::{self, complaints, pi, reports, takedowns, users};
use crate::error::AppError;
use crate::gateway::Gateway;

pub(crate) const DAY_MS: i64 = 86_400_000;

/// How many records a search shows.
const SEARCH_LIMIT: i64 = 200;

pub(crate) type Page = Result<Response, AppError>;

/// Runs a page; an error becomes the error page.
pub(crate) fn page(result: Page) -> Response {
    result.unwrap_or_else(|e| error_page(&e))
}

/// A message shown once after an action (`?done=`).
#[derive(Debug, Default, Deserialize)]
struct Done {
    #[serde(default)]
    done: String,
}

fn done(raw: Option<&str>) -> String {
    serde_urlencoded::from_str::<Done>(raw.unwrap_or(""))
        .map(|d| d.done)
        .unwrap_or_default()
}

fn redirect_done(path: &str, message: &str) -> Response {
    let query = serde_urlencoded::to_string([("done", message)]).unwrap_or_default();
    Redirect::to(&format!("{path}?{query}")).into_response()
}

/// A form post: reads the session's form (its CSRF token first), runs the admin API's action
/// `apply` on it, and redirects to the page `done` names with the message it gives; an error
/// is the error page.
async fn act<T, D, F>(
    gateway: &Gateway,
    c: &Console,
    body: Body,
    apply: impl FnOnce(T) -> F,
    done: impl FnOnce(D) -> (String, String),
) -> Response
where
    T: DeserializeOwned,
    F: Future<Output = Result<D, AppError>>,
{
    page(
        async {
            let request = read_form(gateway, c, body).await?;
            let (path, message) = done(apply(request).await?);
            Ok(redirect_done(&path, &message))
        }
        .await,
    )
}

/// The risk codes of a record's blocking hits.
pub(crate) fn blocking_risks(verdicts: &str) -> Vec<String> {
    let Ok(v) = Verdicts::parse(verdicts) else {
        return Vec::new();
    };
    let mut risks: Vec<String> = v
        .stages
        .iter()
        .filter(|s| s.verdict == Some(Decision::Block))
        .flat_map(|s| s.hits.iter().map(|h| h.risk.clone()))
        .collect();
    risks.sort();
    risks.dedup();
    risks
}

/// The audit search form.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    #[serde(default)]
    user: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    risk: String,
    #[serde(default)]
    verdict: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    kind: String,
}

fn non_empty(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// `GET /console/audit`: search by user, time, outcome, risk code, ProduceID and kind.
pub(crate) async fn audit(
    State(gateway): State<Gateway>,
    Extension(c): Extension<Console>,
    RawQuery(raw): RawQuery,
) -> Response {
    page(audit_page(&gateway, &c, raw.as_deref()).await)
}

async fn audit_page(gateway: &Gateway, c: &Console, raw: Option<&str>) -> Page {
    let q: AuditQuery = admin::query(raw)?;
    let search = Search {
        tenant: c.admin.tenant().to_owned(),
        user: non_empty(&q.user),
        since_ms: admin::optional_time("since", &q.since)?,
        until_ms: admin::optional_time("until", &q.until)?,
        outcome: non_empty(&q.outcome),
        risk: non_empty(&q.risk),
        verdict: non_empty(&q.verdict),
        id_prefix: non_empty(&q.id),
        kind: non_empty(&q.kind),
    };
    let searched = raw.is_some_and(|r| !r.is_empty());
    let records = if searched {
        gateway
            .store()
            .search_records(&search, SEARCH_LIMIT)
            .await
            .map_err(|e| admin::store_error("searching audit records", e))?
    } else {
        Vec::new()
    };
    let rows: Vec<Value> = records
        .iter()
        .map(|r| context! { r => r, risks => blocking_risks(&r.verdicts) })
        .collect();
    Ok(render(
        "audit.html",
        context! { me => c.context(), q => context! {
            user => q.user, since => q.since, until => q.until, outcome => q.outcome,
            risk => q.risk, verdict => q.verdict, id => q.id, kind => q.kind,
        }, searched, rows, limit => SEARCH_LIMIT },
    ))
}

/// `GET /console/records/{id}`: a record, its answer, its place in the chain (verified), its
/// takedown, and the takedown form.
pub(crate) async fn record(
    State(gateway): State<Gateway>,
    Extension(c): Extension<Console>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    page(record_page(&gateway, &c, &id, raw.as_deref()).await)
}

async fn record_page(gateway: &Gateway, c: &Console, id: &str, raw: Option<&str>) -> Page {
    let (asked, completion) = takedowns::record_of(gateway, &c.admin, id).await?;
    let store = gateway.store();
    let position = store
        .chain_position(id)
        .await
        .map_err(|e| admin::store_error("reading the chain", e))?;
    let taken = store
        .taken_down(c.admin.tenant(), id)
        .await
        .map_err(|e| admin::store_error("reading takedowns", e))?;
    let chain = position.map(|p| {
        context! {
            seq => p.record.seq,
            hash => hex::encode(p.hash),
            previous => hex::encode(p.previous),
            link_ok => p.link_ok,
            checkpoint => p.checkpoint.map(|cp| context! { seq => cp.seq, time_ms => cp.time_ms, reason => cp.reason }),
        }
    });
    let answered = completion.as_ref().unwrap_or(&asked);
    Ok(render(
        "record.html",
        context! {
            me => c.context(), r => asked, answer => answered.response_text, answer_outcome => answered.outcome,
            verdicts => answered.verdicts, chain, takedown => taken, done => done(raw),
        },
    ))
}

/// Filter of the complaint queue.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct QueueQuery {
    status: Option<ComplaintStatus>,
}

/// `GET /console/complaints`: the queue, overdue first, then by deadline.
pub(crate) async fn complaints(
    State(gateway): State<Gateway>,
    Extension(c): Extension<Console>,
    RawQuery(raw): RawQuery,
) -> Response {
    page(complaints_page(&gateway, &c, raw.as_deref()).await)
}

async fn complaints_page(gateway: &Gateway, c: &Console, raw: Option<&str>) -> Page {
    let q: QueueQuery = admin::query(raw)?;
    let now = gateway.now_ms();
    let mut list = gateway
        .store()
        .complaints(
            c.admin.tenant(),
            ComplaintFilter {
                status: q.status,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| admin::store_error("reading complaints", e))?;
    if q.status.is_none() {
        list.retain(|c| c.status.is_open());
    }
    // Overdue first (the store orders by deadline, so the overdue are already in front).
    let rows: Vec<Value> = list
        .iter()
        .map(|x| context! { c => x, overdue => x.overdue_at(now) })
        .collect();
    Ok(render(
        "complaints.html",
        context! { me => c.context(), rows, status => q.status.map(|s| s.as_str()) },
    ))
}

/// `GET /console/complaints/{ticket}`: a complaint, its history, the step form.
pub(crate) async fn complaint(
    State(gateway): State<Gateway>,
    Extension(c): Extension<Console>,
    Path(ticket): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    page(
        async {
            let detail = complaints::detail_of(&gateway, &c.admin, &ticket).await?;
            Ok(render(
                "complaint.html",
                context! { me => c.context(), d => detail, done => done(raw.as_deref()) },
            ))
        }
        .await,
    )
}

/// `POST /console/complaints/{ticket}`: a handling step.
pub(crate) async fn complaint_step(
    State(gateway): State<Gateway>,
    Extension(c): Extension<Console>,
    Path(ticket): Path<String>,
    body: Body,
) -> Response {
    act(
        &gateway,
        &c,
        body,
        |request| complaints::apply_step(&gateway, &c.admin, &ticket, request),
        |done| {
            let message = format!(
                "已处理 done: {} (审计记录 record {})",
                done.complaint.status, done.record
            );
            (format!("/console/complaints/{ticket}"), message)
        },
    )
    .await
}

/// The user lookup.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserQuery {
    #[serde(default)]
    user: String,
}

/// `GET /console/users`: look a user up; the users sanctioned in the last 30 days.
pub(crate) async fn users(
    State(gateway): State<Gateway>,
    Extension(c): Extension<Console>,
    RawQuery(raw): RawQuery,
) -> Response {
    page(
        async {
            let q: UserQuery = admin::query(raw.as_deref())?;
            if let Some(user) = non_empty(&q.user) {
                let path = format!("/console/users/{}", path_segment(&user));
                return Ok(Redirect::to(&path).into_response());
            }
            let recent = gateway
                .store()
                .sanctions_between(c.admin.tenant(), gateway.now_ms() - 30 * DAY_MS, i64::MAX)
                .await
                .map_err(|e| admin::store_error("reading sanctions", e))?;
            Ok(render(
                "users.html",
                context! { me => c.context(), recent => recent.iter().rev().collect::<Vec<_>>() },
            ))
        }
        .await,
    )
}

/// What a path segment keeps as is: RFC 3986's unreserved characters.
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes a path segment.
fn path_segment(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, UNRESERVED).to_string()
}

/// `GET /console/users/{user}`: state, violations, sanctions, records, the sanction form.
pub(crate) async fn user(
    State(gateway): State<Gateway>,
    Extension(c): Extension<Console>,
    Path(raw_user): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    page(async {
        let view = users::view_of(&gateway, &c.admin, &raw_user).await?;
        Ok(render(
            "user.html",
            context! { me => c.context(), u => view, path => path_segment(&raw_user), done => done(raw.as_deref()) },
        ))
    }
    .await)
}

/// `POST /console/users/{user}`: a sanction.
pub(crate) async fn sanction(
    State(gateway): State<Gateway>,
    Extension(c): Extension<Console>,
    Path(raw_user): Path<String>,
    body: Body,
) -> Response {
    act(
        &gateway,
        &c,
        body,
        |request| users::apply_sanction(&gateway, &c.admin, &raw_user, request),
        |done| {
            let message = format!(
                "已处置 done: {} (审计记录 record {})",
                done.sanction.state.as_str(),
                done.record
            );
            (
                format!("/console/users/{}", path_segment(&raw_user)),
                message,
            )
        },
    )
    .await
}

/// `GET /console/takedowns`: takedowns, refutations, report entries, the review list.
pub(crate) async fn takedowns(
    State(gateway): State<Gateway>,
    Extension(c): Extension<Console>,
    RawQuery(raw): RawQuery,
) -> Response {
    page(async {
        let store = gateway.store();
        let tenant = c.admin.tenant();
        let e = |what| move |err| admin::store_error(what, err);
        let list = store.takedowns(tenant).await.map_err(e("reading takedowns"))?;
        let refutations = store.refutations(tenant).await.map_err(e("reading refutations"))?;
        let reports = store.authority_reports(tenant, None).await.map_err(e("reading report entries"))?;
        Ok(render(
            "takedowns.html",
            context! {
                me => c.context(), list => list.iter().rev().collect::<Vec<_>>(), refutations, reports,
                done => done(raw.as_deref()),
            },
        ))
    }
    .await)
}

/// `POST /console/takedowns`: take an answer down (from a record's page or a complaint's).
pub(crate) async fn takedown(
    State(gateway): State<Gateway>,
    Extension(c): Extension<Console>,
    body: Body,
) -> Response {
    act(
        &gateway,
        &c,
        body,
        |request| takedowns::apply_takedown(&gateway, &c.admin, request),
        |done| {
            (
                format!("/console/records/{}", done.takedown.record_id),
                format!("已下架 taken down (审计记录 record {})", done.record),
            )
        },
    )
    .await
}

/// `POST /console/refutations`: record a refutation (辟谣).
pub(crate) async fn refutation(
    State(gateway): State<Gateway>,
    Extension(c): Extension<Console>,
    body: Body,
) -> Response {
    act(
        &gateway,
        &c,
        body,
        |request| reports::apply_refutation(&gateway, &c.admin, request),
        |done| {
            let message = format!(
                "已记录辟谣 refutation recorded (审计记录 record {})",
                done.record
            );
            ("/console/takedowns".to_owned(), message)
        },
    )
    .await
}

/// Filter of the personal-information requests.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PiQuery {
    status: Option<hegui_store::pi::PiStatus>,
    #[serde(default)]
    done: String,
}

/// `GET /console/pi`: personal-information requests by deadline, the form to record one and,
/// for each open one, the form to complete or reject it.
pub(crate) async fn pi_requests(
    State(gateway): State<Gateway>,
    Extension(c): Extension<Console>,
    RawQuery(raw): RawQuery,
) -> Response {
    page(
        async {
            let q: PiQuery = admin::query(raw.as_deref())?;
            let now = gateway.now_ms();
            let list = gateway
                .store()
                .pi_requests(c.admin.tenant(), q.status)
                .await
                .map_err(|e| admin::store_error("reading requests", e))?;
            let rows: Vec<Value> = list
                .iter()
                .map(|r| {
                    let open = r.status == hegui_store::pi::PiStatus::Open;
                    context! { r => r, open, overdue => open && now > r.deadline_ms }
                })
                .collect();
            Ok(render(
                "pi.html",
                context! { me => c.context(), rows, done => q.done },
            ))
        }
        .await,
    )
}

/// `POST /console/pi`: record a request.
pub(crate) async fn pi_create(
    State(gateway): State<Gateway>,
    Extension(c): Extension<Console>,
    body: Body,
) -> Response {
    act(
        &gateway,
        &c,
        body,
        |request| pi::apply_create(&gateway, &c.admin, request),
        |done| {
            let message = format!(
                "已登记 recorded: {} (审计记录 record {})",
                done.request.id, done.record
            );
            ("/console/pi".to_owned(), message)
        },
    )
    .await
}

/// `POST /console/pi/{id}`: complete or reject a request.
pub(crate) async fn pi_complete(
    State(gateway): State<Gateway>,
    Extension(c): Extension<Console>,
    Path(id): Path<String>,
    body: Body,
) -> Response {
    act(
        &gateway,
        &c,
        body,
        |request| pi::apply_complete(&gateway, &c.admin, &id, request),
        |done| {
            let message = format!(
                "已处理 done: {} → {} (审计记录 record {})",
                done.request.id, done.request.status, done.record
            );
            ("/console/pi".to_owned(), message)
        },
    )
    .await
}

/// `GET /console/lexicon`: the lexicon in force, its counts per risk and level, the review list.
pub(crate) async fn lexicon(
    State(gateway): State<Gateway>,
    Extension(c): Extension<Console>,
) -> Response {
    page(lexicon_page(&gateway, &c, None).await)
}

async fn lexicon_page(gateway: &Gateway, c: &Console, reloaded: Option<String>) -> Page {
    let matcher = gateway.matcher().load();
    let (name, version) = matcher.name_version();
    let stats = matcher.stats();
    let mut counts: BTreeMap<(String, String), u64> = BTreeMap::new();
    for rule in matcher.rules() {
        *counts
            .entry((rule.risk.clone(), rule.level.as_str().to_owned()))
            .or_default() += 1;
    }
    let counts: Vec<Value> = counts
        .into_iter()
        .map(|((risk, level), n)| context! { risk, level, n })
        .collect();
    let review = gateway
        .store()
        .lexicon_review(c.admin.tenant())
        .await
        .map_err(|e| admin::store_error("reading the lexicon review list", e))?;
    Ok(render(
        "lexicon.html",
        context! {
            me => c.context(), name, version, rules => stats.rules, patterns => stats.patterns,
            source => gateway.config().guard.lexicon.clone(), counts, review, reloaded,
        },
    ))
}

/// A form with nothing but its CSRF token.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

/// `POST /console/lexicon`: reload the lexicon (operators), and show the result.
pub(crate) async fn reload(
    State(gateway): State<Gateway>,
    Extension(c): Extension<Console>,
    body: Body,
) -> Response {
    page(
        async {
            let Empty {} = read_form(&gateway, &c, body).await?;
            c.admin.operator()?;
            let result = match gateway.reload_lexicon().await {
                Ok(()) if gateway.config().guard.lexicon.is_empty() => {
                    "内置样例词库无需重载 the bundled sample lexicon has nothing to reload"
                        .to_owned()
                }
                Ok(()) => "已重载 reloaded".to_owned(),
                Err(e) => {
                    format!("重载失败，原词库继续生效 reload failed, the old lexicon stays: {e}")
                }
            };
            admin::record(
                &gateway,
                &c.admin,
                "",
                admin::Action::by(&c.admin, "lexicon.reload", "", Vec::new()),
                result.clone(),
            )
            .await?;
            lexicon_page(&gateway, &c, Some(result)).await
        }
        .await,
    )
}
