//! `hegui-gateway`: the compliance gateway behind `hegui serve`, an OpenAI-compatible proxy
//! that moderates input and streamed output, labels what is generated (GB 45438-2025) and
//! writes a durable, hash-chained audit record for every answer.
//!
//! One request goes through the auth layer and then the guard pipeline (the guards are listed
//! in one place, `guard::Pipeline::new`; `DESIGN.md` has the diagram):
//!
//! ```text
//! client ─► auth layer (API key → tenant)
//!        ─► admission: end_user ─► sanctions (suspended?) ─► rate_limit ─► agreement
//!                      ─► identity ─► minors ─► reminders
//!        ─► input: lexicon ─► classifier (optional)
//!        ─► upstream (streamed or not)
//!        ─► output: lexicon (streaming scanner, bounded hold-back) ─► explicit_notice ─► user_notice
//!        ─► implicit label (ProduceID = audit record id) ─► audit record (durable) ─► client
//! ```
//!
//! - [`Config`]: the `hegui.toml` schema, validated at start (`examples/hegui.toml` documents
//!   every field).
//! - [`Gateway`]: the shared state; [`Gateway::router`] gives the axum router (testable with
//!   `oneshot`), [`serve`] runs it with graceful shutdown.
//! - [`demo`]: the embedded defaults of `hegui serve --demo`.
//! - [`mock`]: a mock OpenAI-compatible upstream with scripted answers and faults (also the
//!   `hegui-mock-upstream` binary).
//!
//! Key design choice: streamed text is forwarded only as the lexicon's streaming scanner
//! releases it, so no byte the guard has not scanned reaches the client; the final chunk waits
//! for the audit record's commit.
//!
//! The governance workflows are here too: the public pages (`public`), the admin API
//! (`admin`, `/admin/v1`, with its OpenAPI description) and the operator console (`console`,
//! `/console`). Not here: the lexicon itself
//! (`hegui-lexicon`), label codecs (`hegui-label`) and storage (`hegui-store`).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use hegui_gateway::{Config, Gateway};
//! let config = Config::load("hegui.toml".as_ref())?;
//! let gateway = Gateway::new(config).await?;
//! let listener = tokio::net::TcpListener::bind(&gateway.config().listen).await?;
//! hegui_gateway::serve(gateway, listener, async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! # Ok(()) }
//! ```
//!
//! No cargo features.

mod admin;
mod auth;
pub mod clock;
pub mod config;
mod console;
pub mod demo;
mod error;
mod fleet;
#[doc(hidden)]
pub mod fuzzing;
mod gateway;
mod guard;
mod metrics;
mod minors_config;
pub mod mock;
mod public;
mod refusals;
mod routes;
mod server;
mod sse;
mod state;
mod upstream;
mod wire;

use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, get, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub use admin::openapi as admin_openapi;
pub use clock::Clock;
pub use config::{Config, ConfigError};
pub use gateway::{Gateway, GatewayError};
pub use public::config::{Agreement, PublicPages};
pub use server::serve;

impl Gateway {
    /// The routes that need an API key, as (method, path, handler): the router is built from
    /// this list, and a test walks it.
    fn protected_routes() -> Vec<(&'static str, &'static str, MethodRouter<Gateway>)> {
        vec![
            ("POST", "/v1/chat/completions", post(routes::chat::chat)),
            ("GET", "/v1/models", get(routes::models::models)),
            ("POST", "/v1/embeddings", post(routes::media::embeddings)),
            (
                "POST",
                "/v1/images/generations",
                post(routes::media::images),
            ),
            ("POST", "/v1/audio/speech", post(routes::media::speech)),
            (
                "POST",
                "/v1/hegui/agreements/accept",
                post(routes::agreements::accept),
            ),
            (
                "GET",
                "/v1/hegui/records/{id}",
                get(routes::records::record),
            ),
        ]
    }

    /// Every route as (method, axum path, what it needs): for tests that check that nothing
    /// outside the public list answers without a key or token.
    #[doc(hidden)]
    pub fn route_list() -> Vec<(&'static str, String, Access)> {
        let mut list: Vec<_> = Gateway::protected_routes()
            .into_iter()
            .map(|(method, path, _)| (method, path.to_owned(), Access::ApiKey))
            .collect();
        list.extend(
            admin::route_list()
                .into_iter()
                .map(|(method, path)| (method, path, Access::AdminToken)),
        );
        let public = auth::PUBLIC
            .iter()
            .chain(public::ROUTES)
            .chain([&admin::OPENAPI_PATH]);
        list.extend(public.map(|path| ("GET", (*path).to_owned(), Access::Public)));
        list.push(("POST", public::ROUTES[3].to_owned(), Access::Public));
        list.push(("GET", "/console/login".to_owned(), Access::Public));
        list.push(("POST", "/console/login".to_owned(), Access::Public));
        for path in console::ROUTES {
            list.push(("GET", (*path).to_owned(), Access::Session));
        }
        for path in console::POSTS {
            list.push(("POST", (*path).to_owned(), Access::Session));
        }
        list
    }

    /// The router: the OpenAI-compatible routes behind the API-key layer (an unknown path too,
    /// so that it answers 401 before 404) and the gateway-wide concurrency limit ([`slot`]);
    /// [`auth::PUBLIC`] and the public pages ([`public::ROUTES`]) without either, so that
    /// health checks answer under overload and users reach the complaint entrance.
    pub fn router(&self) -> Router {
        let mut protected = Router::new();
        for (_, path, handler) in Gateway::protected_routes() {
            protected = protected.route(path, handler);
        }
        let protected = protected
            .fallback(routes::not_found)
            .method_not_allowed_fallback(routes::method_not_allowed)
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                auth::require_key,
            ))
            .layer(axum::middleware::from_fn_with_state(self.clone(), slot));
        let public = Router::new()
            .merge(admin::router(self))
            .merge(console::router(self))
            .route("/healthz", get(routes::healthz))
            .route("/metrics", get(routes::metrics))
            .merge(public::router())
            .method_not_allowed_fallback(routes::method_not_allowed);
        debug_assert_eq!(auth::PUBLIC.len(), 2, "every public route is listed");
        // Outermost first: a request id for every request (kept from the client's
        // `x-request-id` or made), a tracing span carrying it, the id echoed in the response.
        // (The body's deadline is `routes::read_json`'s: it is for the whole body, where
        // tower-http's body timeout is per frame.)
        let plumbing = tower::ServiceBuilder::new()
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
            .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
                let id = request
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), id)
            }))
            .layer(PropagateRequestIdLayer::x_request_id());
        public
            .merge(protected)
            .layer(CatchPanicLayer::custom(panicked as fn(_) -> _))
            .layer(axum::middleware::from_fn_with_state(self.clone(), track))
            .layer(plumbing)
            .with_state(self.clone())
    }
}

/// What a route needs before it answers.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Nothing (health, metrics, public pages, the admin API's description).
    Public,
    /// A tenant's API key.
    ApiKey,
    /// An admin token.
    AdminToken,
    /// A console session (without one: a redirect to the login page).
    Session,
}

/// Logs to stderr with `tracing`; the level comes from `RUST_LOG` (default `info`), the format
/// from `HEGUI_LOG_FORMAT`: `text` (default) or `json` (one JSON object per line). Fields a
/// client supplies (tenant, end user) are logged in their escaped (`Debug`) form, so a newline,
/// an ANSI escape or a NUL in them cannot forge or garble a log line.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("HEGUI_LOG_FORMAT").is_ok_and(|f| f == "json") {
        let _ = builder.json().try_init();
        return;
    }
    let _ = builder
        .with_ansi(
            std::env::var_os("NO_COLOR").is_none()
                && std::io::IsTerminal::is_terminal(&std::io::stderr()),
        )
        .try_init();
}

/// A handler that panicked: an OpenAI-shaped 500 instead of a connection cut off without an
/// answer (the panic's message is logged by the panic hook, and here as an error; `track`
/// counts the 500). Nothing was delivered, so no record is owed for the answer; a stream that
/// had begun is cut off as before.
#[allow(clippy::needless_pass_by_value)] // tower-http hands the payload over by value
fn panicked(panic: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    error::AppError::internal(
        "handling the request (a bug: the handler panicked)",
        message,
    )
    .into_response()
}

/// The gateway-wide concurrency limit: one slot of `limits.concurrency` per request being
/// handled (the same semaphore whichever route the layer wraps); a request waits for a slot at
/// most `limits.queue-ms`, then gets 503 `overloaded`.
async fn slot(
    axum::extract::State(gateway): axum::extract::State<Gateway>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let wait = Duration::from_millis(gateway.config().limits.queue_ms);
    let slots = gateway.inner.slots.clone();
    let permit = match slots.try_acquire_owned() {
        Ok(permit) => permit,
        Err(_) => {
            match tokio::time::timeout(wait, gateway.inner.slots.clone().acquire_owned()).await {
                Ok(Ok(permit)) => permit,
                _ => {
                    return error::AppError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "overloaded",
                        "the gateway is at its concurrency limit; retry later",
                    )
                    .into_response();
                }
            }
        }
    };
    let response = next.run(request).await;
    drop(permit);
    response
}

/// Counts requests by route and status.
async fn track(
    axum::extract::State(gateway): axum::extract::State<Gateway>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let route = match request.uri().path() {
        p @ ("/v1/chat/completions"
        | "/v1/models"
        | "/v1/embeddings"
        | "/v1/images/generations"
        | "/v1/audio/speech") => p.to_owned(),
        "/healthz" | "/metrics" => return next.run(request).await,
        _ => "other".to_owned(),
    };
    let response = next.run(request).await;
    let status = response.status().as_u16();
    gateway.inner.metrics.request(&route, &status.to_string());
    response
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use tower::ServiceExt as _;

    use super::*;

    async fn boom_str() -> &'static str {
        panic!("boom")
    }

    async fn boom_string() -> &'static str {
        panic!("boom {}", 7)
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_an_openai_500() {
        let router = Router::new()
            .route("/str", get(boom_str))
            .route("/string", get(boom_string))
            .layer(CatchPanicLayer::custom(panicked as fn(_) -> _));
        for (path, message) in [("/str", "boom"), ("/string", "boom 7")] {
            let request = Request::builder().uri(path).body(Body::empty()).unwrap();
            let response = router.clone().oneshot(request).await.unwrap();
            assert_eq!(
                response.status(),
                StatusCode::INTERNAL_SERVER_ERROR,
                "{message}"
            );
            let body = axum::body::to_bytes(response.into_body(), 1 << 16)
                .await
                .unwrap();
            let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(body["error"]["code"], "internal_error");
            assert_eq!(
                body["error"]["message"],
                "internal error while handling the request (a bug: the handler panicked)"
            );
        }
    }
}
