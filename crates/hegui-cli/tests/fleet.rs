//! A fleet of `hegui serve` processes on one PostgreSQL schema and one Redis: SIGKILL of one
//! instance under load loses no record of a response a client completed, from any instance,
//! the others keep answering, and the shared chain verifies.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::serve::{self, Server};

const INSTANCES: usize = 3;

#[test]
fn sigkill_of_one_instance_loses_no_acknowledged_record() {
    let (Some(pg), Some(redis)) = (
        hegui_test::postgres("the multi-process fleet test"),
        hegui_test::redis("the multi-process fleet test"),
    ) else {
        return;
    };
    let runtime = serve::runtime();
    let mock = runtime
        .block_on(hegui_gateway::mock::spawn(Default::default()))
        .unwrap();
    // A schema of its own, made (and migrated) here; the instances find it by `search_path`.
    let schema = format!("hegui_fleet_{}", hegui_store::RecordId::generate());
    let options = hegui_store::OpenOptions {
        pg_schema: Some(schema.clone()),
        ..Default::default()
    };
    runtime.block_on(async {
        hegui_store::Store::open_with(&pg, options.clone())
            .await
            .unwrap()
            .close()
            .await;
    });
    let storage = format!(
        "{pg}{}options[search_path]={schema}",
        if pg.contains('?') { '&' } else { '?' }
    );
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("fleet.toml");
    std::fs::write(
        &config,
        format!(
            "storage = \"{storage}\"\n\
             [fleet]\nredis = \"{redis}\"\nprefix = \"{schema}\"\n\
             [[upstreams]]\nname = \"mock\"\nbase-url = \"{}\"\nmodels = [\"mock-chat\"]\n\
             [[tenants]]\nid = \"acme\"\n",
            mock.base_url()
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let key = Command::new(assert_cmd::cargo::cargo_bin("hegui"))
        .args(["serve", "--config", config, "--new-key", "acme"])
        .output()
        .unwrap();
    assert!(key.status.success(), "{key:?}");
    let key = String::from_utf8(key.stdout).unwrap().trim().to_owned();
    let mut fleet: Vec<Server> = (0..INSTANCES)
        .map(|_| {
            let mut command = Command::new(assert_cmd::cargo::cargo_bin("hegui"));
            command.args(["serve", "--config", config, "--listen", "127.0.0.1:0"]);
            Server::listening(command, false)
        })
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..12)
        .map(|worker| {
            let base = fleet[worker % INSTANCES].base.clone();
            let (key, stop) = (key.clone(), stop.clone());
            runtime.spawn(serve::load(base, key, "mock-chat", worker, stop))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    // SIGKILL mid-load: no shutdown hook runs on the victim.
    fleet[0].child.kill().unwrap();
    let _ = fleet[0].child.wait();
    std::thread::sleep(Duration::from_millis(1000));
    stop.store(true, Ordering::Relaxed);
    let mut completed: Vec<String> = Vec::new();
    let mut per_instance = [0usize; INSTANCES];
    for (worker, task) in workers.into_iter().enumerate() {
        let ids = runtime.block_on(task).unwrap();
        per_instance[worker % INSTANCES] += ids.len();
        completed.extend(ids);
    }
    assert!(
        per_instance.iter().all(|&n| n > 10),
        "responses completed per instance: {per_instance:?}"
    );
    // The survivors still answer.
    for server in &fleet[1..] {
        assert_eq!(
            server.status_with(&key),
            200,
            "{} after the kill",
            server.base
        );
    }
    drop(fleet);
    let (missing, report) = runtime.block_on(async {
        let store = hegui_store::Store::open_with(&pg, options).await.unwrap();
        let missing = serve::not_whole(&store, &completed).await;
        let report = store.verify(&Default::default()).await.unwrap();
        store.close().await;
        (missing, report)
    });
    assert!(
        missing.is_empty(),
        "records missing after SIGKILL: {missing:?}"
    );
    assert!(report.is_ok(), "{report:?}");
}
