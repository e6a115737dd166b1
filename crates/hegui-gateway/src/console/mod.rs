//! The operator console: server-rendered pages under `/console` for trust & safety staff, a
//! second face of the admin API (it calls the same functions, `crate::admin`), in Chinese with
//! English where cheap.
//!
//! - **Login** ([`session`]): names and argon2id passwords from the store
//!   (`hegui console add-user`), a session cookie (`HttpOnly`, `SameSite=Strict`, `Secure` when
//!   the request came over TLS, as a proxy's `X-Forwarded-Proto: https` says), a CSRF token in
//!   every form, lockout after five wrong passwords.
//! - **Pages** ([`pages`]): the dashboard with charts drawn as SVG on the server ([`chart`]),
//!   audit search and the record view with its chain position, the complaint queue and the
//!   answer form, users with their violations and the sanction form, takedowns and
//!   refutations, personal-information requests, the lexicon, the public pages, and the
//!   exports an inspector asks for.
//!
//! Every page works without JavaScript: a form posts, the action is the admin API's, and the
//! answer is a redirect to the page with what happened. An auditor sees the same pages
//! without the forms. Templates are minijinja, embedded in the binary, with autoescaping.

pub(crate) mod chart;
pub(crate) mod dashboard;
pub(crate) mod exports;
pub(crate) mod pages;
pub(crate) mod session;

use std::sync::OnceLock;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use minijinja::Environment;

use crate::error::AppError;
use crate::gateway::Gateway;

/// The console's routes, as axum paths (all need a session but the login page).
pub(crate) const ROUTES: &[&str] = &[
    "/console",
    "/console/audit",
    "/console/records/{id}",
    "/console/complaints",
    "/console/complaints/{ticket}",
    "/console/users",
    "/console/users/{user}",
    "/console/takedowns",
    "/console/lexicon",
    "/console/exports/{what}",
    "/console/pi",
];

/// The console's routes that take a form (a session and its CSRF token).
pub(crate) const POSTS: &[&str] = &[
    "/console/complaints/{ticket}",
    "/console/users/{user}",
    "/console/takedowns",
    "/console/refutations",
    "/console/lexicon",
    "/console/logout",
    "/console/pi",
    "/console/pi/{id}",
];

/// The console router.
pub(crate) fn router(gateway: &Gateway) -> Router<Gateway> {
    let pages = Router::new()
        .route(ROUTES[0], get(dashboard::dashboard))
        .route(ROUTES[1], get(pages::audit))
        .route(ROUTES[2], get(pages::record))
        .route(ROUTES[3], get(pages::complaints))
        .route(ROUTES[4], get(pages::complaint).post(pages::complaint_step))
        .route(ROUTES[5], get(pages::users))
        .route(ROUTES[6], get(pages::user).post(pages::sanction))
        .route(ROUTES[7], get(pages::takedowns).post(pages::takedown))
        .route(POSTS[3], post(pages::refutation))
        .route(ROUTES[8], get(pages::lexicon).post(pages::reload))
        .route(ROUTES[9], get(exports::export))
        .route(ROUTES[10], get(pages::pi_requests).post(pages::pi_create))
        .route(POSTS[7], post(pages::pi_complete))
        .route("/console/logout", post(session::logout))
        .route_layer(axum::middleware::from_fn_with_state(
            gateway.clone(),
            session::require_session,
        ));
    Router::new()
        .route(
            "/console/login",
            get(session::login_page).post(session::login),
        )
        .merge(pages)
        .layer(crate::admin::no_store())
}

fn templates() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.add_filter("time", |ms: i64| {
            let text = crate::clock::beijing_rfc3339(ms);
            text.get(..16).unwrap_or(&text).replace('T', " ")
        });
        env.add_filter("short", |text: String| {
            let mut chars = text.chars();
            let head: String = chars.by_ref().take(40).collect();
            if chars.next().is_some() {
                format!("{head}…")
            } else {
                head
            }
        });
        for (name, source) in TEMPLATES {
            // The templates are part of the binary and parsed by a unit test.
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(template = name, error = %e, "a console template does not parse");
            }
        }
        env
    })
}

/// Every template, by name.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("login.html", include_str!("templates/login.html")),
    ("dashboard.html", include_str!("templates/dashboard.html")),
    ("audit.html", include_str!("templates/audit.html")),
    ("record.html", include_str!("templates/record.html")),
    ("complaints.html", include_str!("templates/complaints.html")),
    ("complaint.html", include_str!("templates/complaint.html")),
    ("users.html", include_str!("templates/users.html")),
    ("user.html", include_str!("templates/user.html")),
    ("takedowns.html", include_str!("templates/takedowns.html")),
    ("lexicon.html", include_str!("templates/lexicon.html")),
    ("pi.html", include_str!("templates/pi.html")),
    ("error.html", include_str!("templates/error.html")),
];

/// Renders `name` with `context` (HTML-escaped); a template error is an internal error.
pub(crate) fn render_to_string(name: &str, context: minijinja::Value) -> Result<String, AppError> {
    templates()
        .get_template(name)
        .and_then(|t| t.render(context))
        .map_err(|e| AppError::internal("rendering a console page", format!("{e:#}")))
}

/// A page, or the error page.
pub(crate) fn render(name: &str, context: minijinja::Value) -> Response {
    match render_to_string(name, context) {
        Ok(html) => page_response(StatusCode::OK, html),
        Err(e) => error_page(&e),
    }
}

/// An HTML answer that no other site may frame, with the console's headers.
fn page_response(status: StatusCode, html: String) -> Response {
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
        (
            "content-security-policy",
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'",
        ),
    ] {
        headers.insert(name, axum::http::HeaderValue::from_static(value));
    }
    response
}

/// An error as a page (the console is for people): its status, message and code.
pub(crate) fn error_page(error: &AppError) -> Response {
    let context = minijinja::context! {
        status => error.status.as_u16(),
        code => error.code,
        message => error.message,
    };
    let html = templates()
        .get_template("error.html")
        .and_then(|t| t.render(context))
        .unwrap_or_else(|_| format!("{} {}", error.status.as_u16(), error.message));
    page_response(error.status, html)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_parses() {
        let env = super::templates();
        for (name, _) in super::TEMPLATES {
            assert!(env.get_template(name).is_ok(), "{name}");
        }
    }
}
