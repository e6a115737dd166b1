//! The dashboard: requests and blocks over seven days and blocks by risk (SVG drawn on the
//! server), open complaints by deadline, this week's sanctions, the public pages in force.

use std::collections::BTreeMap;

use axum::extract::{Extension, State};
use axum::response::Response;
use chrono::{DateTime, NaiveDate};
use hegui_store::complaints::ComplaintFilter;
use hegui_store::ledger::search::Search;
use minijinja::{Value, context};

use super::chart::{self, Series};
use super::pages::{DAY_MS, Page, blocking_risks, page};
use super::render;
use super::session::Console;
use crate::admin;
use crate::gateway::Gateway;

/// The Beijing calendar day of a time in ms.
fn beijing_day(ms: i64) -> Option<NaiveDate> {
    DateTime::from_timestamp_millis(ms).map(|t| crate::clock::beijing(t).day)
}

/// How many of the newest records the dashboard reads.
const DASHBOARD_RECORDS: i64 = 20_000;

/// `GET /console`: requests and blocks over seven days, blocks by risk, open complaints by
/// deadline, sanctions this week, the public pages.
pub(crate) async fn dashboard(
    State(gateway): State<Gateway>,
    Extension(c): Extension<Console>,
) -> Response {
    page(dashboard_page(&gateway, &c).await)
}

async fn dashboard_page(gateway: &Gateway, c: &Console) -> Page {
    let store = gateway.store();
    let tenant = c.admin.tenant();
    let at = gateway.now();
    let now = at.timestamp_millis();
    let today = crate::clock::beijing(at).day;
    let since = now - 7 * DAY_MS;
    let search = Search {
        tenant: tenant.to_owned(),
        since_ms: Some(since),
        ..Search::default()
    };
    let records = store
        .search_records(&search, DASHBOARD_RECORDS)
        .await
        .map_err(|e| admin::store_error("reading audit records", e))?;
    // The last seven Beijing days, oldest first; a record's column is its day's distance from
    // today.
    let days: Vec<String> = (0..7)
        .rev()
        .map(|d| (today - chrono::Days::new(d)).format("%m-%d").to_string())
        .collect();
    let mut passed = vec![0u64; 7];
    let mut blocked = vec![0u64; 7];
    let mut refused = vec![0u64; 7];
    let mut by_risk: BTreeMap<String, u64> = BTreeMap::new();
    for r in &records {
        if r.kind == "governance" || r.kind == "complaint" {
            continue;
        }
        let Some(i) = beijing_day(r.time_ms)
            .and_then(|day| usize::try_from((today - day).num_days()).ok())
            .and_then(|back| 6usize.checked_sub(back))
        else {
            continue;
        };
        match r.outcome.as_str() {
            "blocked_input" | "blocked_output" => {
                blocked[i] += 1;
                for risk in blocking_risks(&r.verdicts) {
                    *by_risk.entry(risk).or_default() += 1;
                }
            }
            "refused" => refused[i] += 1,
            _ => passed[i] += 1,
        }
    }
    let mut risks: Vec<(String, u64)> = by_risk.into_iter().collect();
    risks.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    risks.truncate(10);
    let requests_chart = chart::stacked(
        "近七日请求 Requests, last 7 days",
        &days,
        &[
            Series {
                name: "通过 passed",
                color: "#4a8f5d",
                values: passed,
            },
            Series {
                name: "拦截 blocked",
                color: "#c0392b",
                values: blocked,
            },
            Series {
                name: "拒绝 refused",
                color: "#d4a017",
                values: refused,
            },
        ],
    );
    let risk_chart = chart::horizontal("按风险拦截 Blocks by risk", &risks, "#c0392b");
    let open = store
        .complaints(tenant, ComplaintFilter::default())
        .await
        .map_err(|e| admin::store_error("reading complaints", e))?
        .into_iter()
        .filter(|c| c.status.is_open())
        .collect::<Vec<_>>();
    let overdue = open.iter().filter(|c| c.overdue_at(now)).count();
    let sanctions = store
        .sanctions_between(tenant, since, i64::MAX)
        .await
        .map_err(|e| admin::store_error("reading sanctions", e))?;
    let public = gateway.config().public_pages(tenant).map(|p| {
        context! {
            url => format!("/public/{tenant}"),
            agreement => p.current_agreement(today).map(|a| a.version.clone()),
            versions => p.agreements.iter().map(|a| a.version.clone()).collect::<Vec<_>>(),
        }
    });
    Ok(render(
        "dashboard.html",
        context! {
            me => c.context(),
            requests_chart => Value::from_safe_string(requests_chart),
            risk_chart => Value::from_safe_string(risk_chart),
            records => records.len(),
            open => open.iter().take(10).map(|c| context! { c => c, overdue => c.overdue_at(now) }).collect::<Vec<_>>(),
            open_count => open.len(),
            overdue => overdue,
            sanctions => sanctions.iter().rev().take(10).collect::<Vec<_>>(),
            sanction_count => sanctions.len(),
            public => public,
        },
    ))
}
