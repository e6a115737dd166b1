//! `hegui serve --demo`: the embedded defaults a new user can try in one command — SQLite,
//! the sample lexicon, and an in-process mock upstream whose scripted answers are marked
//! `【演示回答】` (demo answer) so nobody mistakes them for a model.
//!
//! Not for production: the demo tenant's key is created at every start and printed.

use crate::config::{Config, TenantConfig, Upstream};
use crate::mock::MockOptions;
use crate::public::config::{Agreement, PublicPages};

/// The demo model name.
pub const MODEL: &str = "demo-chat";

/// The demo tenant.
pub const TENANT: &str = "demo";

/// The mock's scripted answers: a greeting, and a story whose streamed answer the output guard
/// cuts.
pub fn mock_options() -> MockOptions {
    MockOptions {
        reply:
            "【演示回答】你好！这是 hegui 演示上游（模拟模型）的回答；正式部署时，这里是您的模型。"
                .into(),
        script: vec![(
            "故事".into(),
            "【演示回答】从前有一个人，在网上出售冰毒，后来被警察抓住了。".into(),
        )],
        chunk_chars: 3,
        chunk_delay_ms: 20,
        ..MockOptions::default()
    }
}

/// The demo config: the mock at `mock_base_url`, SQLite at `storage`, the demo tenant.
pub fn config(mock_base_url: &str, storage: &str) -> Config {
    let mut config = Config {
        storage: storage.to_owned(),
        ..Config::default()
    };
    config.upstreams.push(Upstream {
        name: "demo-mock".into(),
        base_url: mock_base_url.to_owned(),
        api_key_env: None,
        models: vec![MODEL.into()],
        filed: false,
        filing_number: String::new(),
    });
    config.tenants.push(TenantConfig {
        id: TENANT.into(),
        name: "演示租户 (demo)".into(),
        api_key_env: None,
        public: Some(public_pages()),
    });
    config
}

/// The demo tenant's public pages (`/public/demo`): every text marked as a demo.
pub fn public_pages() -> PublicPages {
    PublicPages {
        service: "hegui 演示服务 (demo)".into(),
        provider: "演示提供者（非真实主体）".into(),
        scope: "演示用途：面向评估 hegui 的工程师和合规人员，不面向公众，不用于任何真实决策。".into(),
        limits: "演示上游是模拟模型，只会给出预设回答；回答不代表任何事实。".into(),
        algorithm_filing: String::new(),
        contact: String::new(),
        complaint_days: 15,
        complaint_working_days: true,
        complaint_webhook: String::new(),
        pi_request_days: 15,
        require_agreement: false,
        require_identity: false,
        identity_secret_env: None,
        agreements: vec![Agreement {
            version: "demo-1".into(),
            effective: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default(),
            title: "演示用户服务协议".into(),
            text: "本协议仅用于演示 hegui 的公开页面。\n\n\
                   使用者不得利用本服务生成违法内容；违反者将依规警示、限制、暂停或终止服务，并保存有关记录。\n\n\
                   投诉举报入口见本服务的投诉举报页面。"
                .into(),
        }],
    }
}
