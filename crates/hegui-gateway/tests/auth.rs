//! Authentication: nothing outside the public list answers without a key.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use hegui_gateway::mock::MockOptions;
use hegui_gateway::{Access, Gateway};

use crate::util::harness;

/// Every route outside the public list refuses a request without a valid key (401, before any
/// body is looked at: an oversized or malformed body still gets 401), whatever the method; an
/// unknown path too. The public routes answer without one.
#[tokio::test]
async fn nothing_outside_the_public_list_answers_without_a_key() {
    let h = harness(MockOptions::default(), |c| {
        c.tenants.push(hegui_gateway::config::TenantConfig {
            id: "acme".into(),
            name: "ACME".into(),
            api_key_env: None,
            public: Some(hegui_gateway::demo::public_pages()),
        });
    })
    .await;
    let routes = Gateway::route_list();
    assert!(
        routes.iter().any(
            |(_, path, access)| path == "/admin/v1/complaints" && *access == Access::AdminToken
        )
    );
    let mut paths: Vec<(&str, String, Access)> = routes.clone();
    paths.extend([
        ("GET", "/v1/no-such-route".into(), Access::ApiKey),
        ("POST", "/v1/chat/completions/".into(), Access::ApiKey),
        ("GET", "/".into(), Access::ApiKey),
    ]);
    let oversized = vec![b'x'; 20 << 20];
    for (method, path, access) in paths {
        let path = path
            .replace("{tenant}", "acme")
            .replace("{version}", "demo-1")
            .replace(['{', '}'], "");
        // An API key is not an admin token, and an admin token's form is no help without its
        // secret.
        for key in [
            None,
            Some("hg_wrong_key"),
            Some(""),
            Some(h.key.as_str()),
            Some("hga_0_0"),
        ] {
            if matches!(access, Access::ApiKey | Access::Public) && key == Some(h.key.as_str()) {
                continue;
            }
            for body in [Vec::new(), b"{not json".to_vec(), oversized.clone()] {
                let mut request = Request::builder().method(method).uri(&path);
                if let Some(key) = key {
                    request = request.header("authorization", format!("Bearer {key}"));
                }
                let answer = h.send(request.body(Body::from(body)).unwrap()).await;
                if access == Access::Session {
                    // The console: to the login page, whatever the method or key.
                    assert_eq!(
                        answer.status,
                        StatusCode::SEE_OTHER,
                        "{method} {path}: {}",
                        answer.text
                    );
                    assert_eq!(
                        answer.header("location"),
                        "/console/login",
                        "{method} {path}"
                    );
                } else if access != Access::Public {
                    assert_eq!(
                        answer.status,
                        StatusCode::UNAUTHORIZED,
                        "{method} {path} with key {key:?}: {}",
                        answer.text
                    );
                    let code = if access == Access::ApiKey {
                        "invalid_api_key"
                    } else {
                        "invalid_admin_token"
                    };
                    assert_eq!(answer.json()["error"]["code"], code, "{method} {path}");
                } else if method == "GET" && path.ends_with("/ticket") {
                    // An unknown ticket: not found, never a request for a key.
                    assert_eq!(answer.status, StatusCode::NOT_FOUND, "{method} {path}");
                } else if method == "GET" {
                    assert_eq!(answer.status, StatusCode::OK, "{method} {path}");
                } else {
                    // A submission is judged on its body, never refused for want of a key.
                    assert_ne!(answer.status, StatusCode::UNAUTHORIZED, "{method} {path}");
                }
            }
        }
    }
    // The bearer scheme is case-insensitive.
    let answer = h
        .send(
            Request::get("/v1/models")
                .header("authorization", format!("BEARER {}", h.key))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
}
