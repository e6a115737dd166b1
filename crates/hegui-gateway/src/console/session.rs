//! Console login, sessions and CSRF.
//!
//! The session cookie `hegui_session` holds 32 random bytes; the store keeps their digest, the
//! session's CSRF token and its expiry (`hegui_store::console`). Every form of a session
//! carries its CSRF token ([`read_form`] checks it before anything else); the login form, which
//! has no session yet, carries a token that must equal the `hegui_login` cookie set with the
//! page (double submit). Password checks share a budget of [`LOGINS_PER_SEC`]. Cookies are `HttpOnly`, `SameSite=Strict`, `Path=/console`, and
//! `Secure` when the request came over TLS (`X-Forwarded-Proto: https` from the proxy that
//! terminates it).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Redirect, Response};
use hegui_store::console::{ConsoleUser, Login};
use minijinja::context;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq as _;

use super::{error_page, render};
use crate::admin::Admin;
use crate::error::AppError;
use crate::gateway::Gateway;

/// The session cookie.
const SESSION_COOKIE: &str = "hegui_session";

/// The login form's double-submit cookie.
const LOGIN_COOKIE: &str = "hegui_login";

/// Console password checks per second across every client: each is an argon2id hash (tens of
/// milliseconds of a core), so a flood of logins cannot take the gateway's CPU.
pub(crate) const LOGINS_PER_SEC: u32 = 10;

/// The most a console form may hold, in bytes.
const MAX_FORM: usize = 64 * 1024;

/// The signed-in person, set by [`require_session`].
#[derive(Debug, Clone)]
pub(crate) struct Console {
    /// Who acts, as the admin API sees them.
    pub(crate) admin: Admin,
    /// Their session's CSRF token, for the forms of the page.
    pub(crate) csrf: String,
}

impl Console {
    /// Whether they may act (an operator): the pages show forms only then.
    pub(crate) fn can_act(&self) -> bool {
        self.admin.operator().is_ok()
    }

    /// What every page's template gets about them.
    pub(crate) fn context(&self) -> minijinja::Value {
        context! {
            name => self.admin.name(),
            tenant => self.admin.tenant(),
            role => self.admin.role().as_str(),
            can_act => self.can_act(),
            csrf => self.csrf,
        }
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: `value` for `max_age` seconds (0 deletes it).
fn set_cookie(headers: &HeaderMap, name: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    let text = format!(
        "{name}={value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Lets a request with a live session through with its [`Console`]; sends anyone else to the
/// login page.
pub(crate) async fn require_session(
    State(gateway): State<Gateway>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(token) = cookie(request.headers(), SESSION_COOKIE).map(str::to_owned) else {
        return Redirect::to("/console/login").into_response();
    };
    let now = gateway.now_ms();
    match gateway.store().console_session(&token, now).await {
        Ok(Some(session)) => {
            let ConsoleUser {
                name,
                tenant_id,
                role,
            } = session.user;
            request.extensions_mut().insert(Console {
                admin: Admin::new(tenant_id, name, role),
                csrf: session.csrf,
            });
            next.run(request).await
        }
        Ok(None) => Redirect::to("/console/login").into_response(),
        Err(e) => error_page(&AppError::internal("reading the console session", e)),
    }
}

/// Reads a form of the signed-in person's session: checks its CSRF token (403 without the
/// right one, before anything else is looked at), then decodes the other fields as a `T`.
pub(crate) async fn read_form<T: DeserializeOwned>(
    gateway: &Gateway,
    console: &Console,
    body: Body,
) -> Result<T, AppError> {
    let bytes = crate::routes::read_body(gateway, body, MAX_FORM).await?;
    let mut pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).map_err(|e| {
        AppError::bad_request("invalid_form", format!("the form is not valid: {e}"))
    })?;
    let presented = pairs
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    if !equal(&presented, &console.csrf) {
        return Err(AppError::new(
            StatusCode::FORBIDDEN,
            "csrf_rejected",
            "表单已失效，请刷新页面后重试 (the form's CSRF token is missing or wrong)",
        ));
    }
    pairs.retain(|(k, _)| k != "csrf");
    let rest = serde_urlencoded::to_string(&pairs)
        .map_err(|e| AppError::internal("re-encoding a form", e))?;
    serde_urlencoded::from_str(&rest)
        .map_err(|e| AppError::bad_request("invalid_form", format!("the form is not valid: {e}")))
}

/// `GET /console/login`.
pub(crate) async fn login_page(headers: HeaderMap) -> Response {
    login_form(&headers, StatusCode::OK, "")
}

fn login_form(headers: &HeaderMap, status: StatusCode, message: &str) -> Response {
    let token = hex::encode(rand_bytes());
    let mut response = render(
        "login.html",
        context! { token => token, message => message },
    );
    *response.status_mut() = status;
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(headers, LOGIN_COOKIE, &token, 3600),
    );
    response
}

fn rand_bytes() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    // The OS generator; a failure leaves zeros, which then match no cookie.
    let _ = getrandom::fill(&mut bytes);
    bytes
}

/// The login form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginForm {
    name: String,
    password: String,
    token: String,
}

/// `POST /console/login`.
pub(crate) async fn login(State(gateway): State<Gateway>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let headers = parts.headers;
    let bytes = match crate::routes::read_body(&gateway, body, MAX_FORM).await {
        Ok(bytes) => bytes,
        Err(e) => return error_page(&e),
    };
    let Ok(form) = serde_urlencoded::from_bytes::<LoginForm>(&bytes) else {
        return login_form(
            &headers,
            StatusCode::BAD_REQUEST,
            "请填写用户名和密码 (name and password are required)",
        );
    };
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !equal(&form.token, expected) {
        return login_form(
            &headers,
            StatusCode::FORBIDDEN,
            "登录表单已失效，请重试 (the login form expired; try again)",
        );
    }
    if !gateway.inner.tracked.login_allows() {
        return login_form(
            &headers,
            StatusCode::TOO_MANY_REQUESTS,
            "登录请求过多，请稍后再试 (too many logins at once; try again in a few seconds)",
        );
    }
    let now = gateway.now_ms();
    match gateway
        .store()
        .console_login(form.name.trim(), &form.password, now)
        .await
    {
        Ok(Login::Ok(_, session)) => {
            let mut response = Redirect::to("/console").into_response();
            let age = (session.expires_ms - now) / 1000;
            let cookies = response.headers_mut();
            cookies.append(
                header::SET_COOKIE,
                set_cookie(&headers, SESSION_COOKIE, &session.token, age),
            );
            cookies.append(
                header::SET_COOKIE,
                set_cookie(&headers, LOGIN_COOKIE, "", 0),
            );
            response
        }
        Ok(Login::Wrong) => login_form(
            &headers,
            StatusCode::UNAUTHORIZED,
            "用户名或密码错误 (wrong name or password)",
        ),
        Ok(Login::Locked(until)) => login_form(
            &headers,
            StatusCode::TOO_MANY_REQUESTS,
            &format!(
                "连续输错密码次数过多，账号已锁定至 {} (too many wrong passwords: locked until then)",
                crate::clock::beijing_rfc3339(until)
            ),
        ),
        Err(e) => error_page(&AppError::internal("checking a console login", e)),
    }
}

/// The logout form: only its CSRF token.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogoutForm {}

/// `POST /console/logout`.
pub(crate) async fn logout(
    State(gateway): State<Gateway>,
    axum::extract::Extension(console): axum::extract::Extension<Console>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    if let Err(e) = read_form::<LogoutForm>(&gateway, &console, body).await {
        return error_page(&e);
    }
    if let Some(token) = cookie(&parts.headers, SESSION_COOKIE)
        && let Err(e) = gateway.store().end_console_session(token).await
    {
        return error_page(&AppError::internal("ending a console session", e));
    }
    let mut response = Redirect::to("/console/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&parts.headers, SESSION_COOKIE, "", 0),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; hegui_session=abc"),
        );
        headers.append(header::COOKIE, HeaderValue::from_static("hegui_login=x"));
        assert_eq!(cookie(&headers, "hegui_session"), Some("abc"));
        assert_eq!(cookie(&headers, "hegui_login"), Some("x"));
        assert_eq!(cookie(&headers, "b"), None);
        let set = set_cookie(&headers, "hegui_session", "v", 60);
        assert_eq!(
            set.to_str().unwrap(),
            "hegui_session=v; Path=/console; HttpOnly; SameSite=Strict; Max-Age=60"
        );
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(
            set_cookie(&headers, "n", "v", 1)
                .to_str()
                .unwrap()
                .ends_with("; Secure")
        );
    }
}
