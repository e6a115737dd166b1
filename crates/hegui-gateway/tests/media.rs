//! Media routes: generated images and speech carry the implicit label (its `ProduceID` the
//! record id) and pass the input guard, as do embeddings.

use axum::http::StatusCode;
use hegui_gateway::mock::MockOptions;
use serde_json::json;

use crate::util::harness;

#[tokio::test]
async fn images_get_an_implicit_label_with_the_record_id() {
    use base64::Engine as _;
    let h = harness(MockOptions::default(), |c| c.label.explicit_image = true).await;
    let r = h
        .post(
            "/v1/images/generations",
            &json!({"model": "mock-chat", "prompt": "一只猫", "response_format": "b64_json"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let body = r.json();
    let png = base64::engine::general_purpose::STANDARD
        .decode(body["data"][0]["b64_json"].as_str().unwrap())
        .unwrap();
    let found = hegui_label::read_label(&png).unwrap().expect("a label");
    let id = r.header("x-aigc-produce-id");
    assert_eq!(found.label.produce_id, id);
    assert_eq!(body["aigc"]["ProduceID"], id.as_str());
    let record = h.record(&id).await;
    assert_eq!(record.kind, "image");
    let r = h
        .post(
            "/v1/images/generations",
            &json!({"model": "mock-chat", "prompt": "出售冰毒"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"]["code"], "content_filter");
}

#[tokio::test]
async fn speech_is_labeled() {
    let h = harness(MockOptions::default(), |c| c.label.explicit_audio = true).await;
    let r = h
        .post(
            "/v1/audio/speech",
            &json!({"model": "mock-chat", "input": "你好", "voice": "alloy"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let found = hegui_label::read_label(&r.bytes).unwrap().expect("a label");
    assert_eq!(found.label.produce_id, r.header("x-aigc-produce-id"));
}

#[tokio::test]
async fn embeddings_run_the_input_guard() {
    let h = harness(MockOptions::default(), |_| {}).await;
    let r = h
        .post(
            "/v1/embeddings",
            &json!({"model": "mock-chat", "input": ["你好", "世界"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["data"].as_array().unwrap().len(), 2);
    let r = h
        .post(
            "/v1/embeddings",
            &json!({"model": "mock-chat", "input": "出售冰毒"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}
