//! The governance repositories on SQLite and PostgreSQL: complaints and their history, admin
//! tokens, sanctions by actor and their export window, takedowns with their review-list and
//! report entries, refutations, and personal-information requests with the retention rule.

mod common;

use common::TestDb;
use hegui_store::admins::Role;
use hegui_store::complaints::{ComplaintFilter, ComplaintStatus, NewComplaint, Step, StepAction};
use hegui_store::ledger::NewRecord;
use hegui_store::pi::{PiKind, PiStatus};
use hegui_store::reports::{Refutation, ReportStatus, ReportSubject};
use hegui_store::takedowns::NewTakedown;
use hegui_store::users::UserState;
use hegui_store::{StoreError, WriterOptions};

fn complaint(deadline_ms: i64) -> NewComplaint {
    NewComplaint {
        channel: "web".into(),
        content: "bad output".into(),
        contact: "13800000000".into(),
        record_id: "rec1".into(),
        deadline_ms,
        ..Default::default()
    }
}

async fn complaints(db: &TestDb) {
    let store = db.open().await;
    let c = store
        .create_complaint("t1", complaint(1_000))
        .await
        .unwrap();
    assert_eq!(c.status, ComplaintStatus::New);
    let late = store
        .create_complaint("t1", complaint(i64::MAX))
        .await
        .unwrap();
    store
        .create_complaint("t2", complaint(1_000))
        .await
        .unwrap();
    // Another tenant's ticket is not found, and nothing changes.
    let other = store
        .complaint_step("t2", &c.ticket, "li", &Step::Start)
        .await;
    assert!(
        matches!(other, Err(StoreError::NotFound { .. })),
        "{other:?}"
    );
    for step in [
        Step::Assign("wang".into()),
        Step::Start,
        Step::Note("looked at the record".into()),
        Step::Answer("removed; thank you".into()),
    ] {
        store
            .complaint_step("t1", &c.ticket, "li", &step)
            .await
            .unwrap();
    }
    let wrong = store
        .complaint_step("t1", &c.ticket, "li", &Step::Start)
        .await;
    assert!(
        matches!(wrong, Err(StoreError::Conflict { .. })),
        "{wrong:?}"
    );
    let done = store.complaint("t1", &c.ticket).await.unwrap().unwrap();
    assert_eq!(
        (done.status, done.assignee.as_str(), done.answer.as_str()),
        (ComplaintStatus::Answered, "wang", "removed; thank you")
    );
    assert!(done.answered_ms.is_some());
    let history = store.complaint_events(&c.ticket).await.unwrap();
    let actions: Vec<_> = history.iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        [
            StepAction::Received,
            StepAction::Assign,
            StepAction::Start,
            StepAction::Note,
            StepAction::Answer
        ]
    );
    assert_eq!(history[0].actor, "submitter");
    assert_eq!(history[4].actor, "li");
    // The tenant's histories in one query hold the same steps under the ticket, and no other
    // tenant's.
    let all = store.complaint_histories("t1").await.unwrap();
    let mine: Vec<_> = all
        .iter()
        .filter(|t| t.ticket == c.ticket)
        .map(|t| t.event.clone())
        .collect();
    assert_eq!(mine, history);
    assert!(
        store
            .complaint_histories("t2")
            .await
            .unwrap()
            .iter()
            .all(|t| t.ticket != c.ticket)
    );
    // Overdue: open and past the deadline; the answered one is not, the late one not yet.
    let overdue = store
        .complaints(
            "t1",
            ComplaintFilter {
                overdue_at: Some(2_000),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(overdue.is_empty(), "{overdue:?}");
    let open = store
        .complaints(
            "t1",
            ComplaintFilter {
                status: Some(ComplaintStatus::New),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].ticket, late.ticket);
    assert_eq!(
        store
            .complaints(
                "t2",
                ComplaintFilter {
                    overdue_at: Some(2_000),
                    ..Default::default()
                }
            )
            .await
            .unwrap()
            .len(),
        1
    );
    store.close().await;
}
both!(complaints_move_through_their_states, complaints);

async fn admin_tokens(db: &TestDb) {
    let store = db.open().await;
    let (info, text) = store
        .create_admin_token("t1", "li", Role::Operator)
        .await
        .unwrap();
    assert!(text.starts_with("hga_"));
    let found = store.authenticate_admin(&text).await.unwrap().unwrap();
    assert_eq!((found.name.as_str(), found.role), ("li", Role::Operator));
    assert_eq!(
        store
            .authenticate_admin(&text[..text.len() - 1])
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.authenticate_admin("hg_x_y").await.unwrap(), None);
    assert!(
        store
            .create_admin_token("t1", " ", Role::Auditor)
            .await
            .is_err()
    );
    assert!(
        store
            .revoke_admin_token("t2", &info.token_id)
            .await
            .is_err()
    );
    store
        .revoke_admin_token("t1", &info.token_id)
        .await
        .unwrap();
    assert_eq!(store.authenticate_admin(&text).await.unwrap(), None);
    assert_eq!(store.admin_tokens("t1").await.unwrap().len(), 1);
    store.close().await;
}
both!(admin_tokens_authenticate_and_revoke, admin_tokens);

async fn sanctions(db: &TestDb) {
    let store = db.open().await;
    let first = store
        .sanction(
            "t1",
            "bob",
            UserState::Suspended,
            "spam",
            Some("r1"),
            "policy",
        )
        .await
        .unwrap();
    store
        .sanction("t1", "bob", UserState::Normal, "appeal upheld", None, "li")
        .await
        .unwrap();
    store
        .sanction("t2", "bob", UserState::Warned, "other tenant", None, "zhao")
        .await
        .unwrap();
    let all = store.sanctions("t1", "bob").await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(
        (all[0].actor.as_str(), all[1].actor.as_str()),
        ("policy", "li")
    );
    assert_eq!(all[0], first);
    let window = store
        .sanctions_between("t1", first.created_ms, i64::MAX)
        .await
        .unwrap();
    assert_eq!(window.len(), 2);
    assert!(
        store
            .sanctions_between("t1", 0, first.created_ms)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.end_user("t1", "bob").await.unwrap().unwrap().state,
        UserState::Normal
    );
    store.close().await;
}
both!(sanctions_record_their_actor, sanctions);

async fn takedowns_and_reports(db: &TestDb) {
    let store = db.open().await;
    let t = store
        .create_takedown(
            "t1",
            "li",
            NewTakedown {
                record_id: "rec1".into(),
                reason: "rumour".into(),
                risk: "A.3.h".into(),
                pattern: "某某谣言".into(),
                prompt: "q".into(),
                answer: "a".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let again = store
        .create_takedown(
            "t1",
            "li",
            NewTakedown {
                record_id: "rec1".into(),
                ..Default::default()
            },
        )
        .await;
    assert!(
        matches!(again, Err(StoreError::Conflict { .. })),
        "{again:?}"
    );
    assert_eq!(
        store.taken_down("t1", "rec1").await.unwrap(),
        Some(t.clone())
    );
    assert_eq!(store.taken_down("t2", "rec1").await.unwrap(), None);
    // Without a tenant (the CLI's check before it labels a ProduceID).
    assert_eq!(
        store.takedowns_of_record("rec1").await.unwrap(),
        vec![t.clone()]
    );
    assert_eq!(store.takedowns_of_record("rec2").await.unwrap(), vec![]);
    let review = store.lexicon_review("t1").await.unwrap();
    assert_eq!(review.len(), 1);
    assert_eq!(review[0].source, format!("takedown:{}", t.id));
    let r = store
        .create_refutation(
            "t1",
            "li",
            Refutation {
                id: String::new(),
                tenant_id: String::new(),
                claim: "某地发生地震".into(),
                refutation: "经核实，该信息不实".into(),
                published_where: "https://example.cn/piyao/1".into(),
                published_ms: 5,
                record_id: "rec1".into(),
                actor: String::new(),
                created_ms: 0,
            },
        )
        .await
        .unwrap();
    assert_eq!(store.refutations("t1").await.unwrap(), vec![r.clone()]);
    let pending = store
        .authority_reports("t1", Some(ReportStatus::Pending))
        .await
        .unwrap();
    let subjects: Vec<_> = pending
        .iter()
        .map(|p| (p.subject, p.subject_id.clone()))
        .collect();
    assert_eq!(
        subjects,
        [
            (ReportSubject::Takedown, t.id.clone()),
            (ReportSubject::Refutation, r.id.clone())
        ]
    );
    let sent = store
        .submit_report("t1", &pending[0].id, "网信办 12377 回执 123")
        .await
        .unwrap();
    assert_eq!(sent.status, ReportStatus::Submitted);
    assert!(matches!(
        store.submit_report("t1", &pending[0].id, "again").await,
        Err(StoreError::Conflict { .. })
    ));
    assert!(matches!(
        store.submit_report("t2", &pending[1].id, "x").await,
        Err(StoreError::NotFound { .. })
    ));
    store.close().await;
}
both!(
    takedowns_open_review_and_report_entries,
    takedowns_and_reports
);

async fn pi_requests(db: &TestDb) {
    let store = db.open().await;
    let now = chrono::Utc::now().timestamp_millis();
    let day = 86_400_000;
    // Carol's last record is 200 days old (past the 180-day retention), Dave's is new.
    let records = [
        NewRecord::new("chat")
            .tenant("t1")
            .end_user("carol")
            .at(now - 200 * day),
        NewRecord::new("chat")
            .tenant("t1")
            .end_user("dave")
            .at(now - 200 * day),
        NewRecord::new("chat").tenant("t1").end_user("dave").at(now),
    ];
    store
        .append_batch(&records, &WriterOptions::default())
        .await
        .unwrap();
    for user in ["carol", "dave"] {
        store.set_minor("t1", user, true).await.unwrap();
    }
    let carol = store
        .create_pi_request("t1", "carol", PiKind::Deletion, "delete my data", now + day)
        .await
        .unwrap();
    let dave = store
        .create_pi_request("t1", "dave", PiKind::Deletion, "", now + day)
        .await
        .unwrap();
    let access = store
        .create_pi_request("t1", "dave", PiKind::Access, "", now + day)
        .await
        .unwrap();
    let done = store
        .complete_pi_request("t1", &carol.id, false, "deleted")
        .await
        .unwrap();
    assert_eq!(done.status, PiStatus::Done);
    assert_eq!(store.end_user("t1", "carol").await.unwrap(), None);
    let waiting = store
        .complete_pi_request("t1", &dave.id, false, "")
        .await
        .unwrap();
    assert_eq!(waiting.status, PiStatus::PendingRetention);
    let until = waiting.retain_until_ms.unwrap();
    assert!((until - (now + 180 * day)).abs() < 60_000, "{until}");
    assert!(store.end_user("t1", "dave").await.unwrap().is_some());
    assert!(matches!(
        store.complete_pi_request("t1", &dave.id, false, "").await,
        Err(StoreError::Conflict { .. })
    ));
    assert!(matches!(
        store.complete_pi_request("t2", &access.id, false, "").await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(
        store.records_of_user("t1", "dave", 10).await.unwrap().len(),
        2
    );
    // Nothing is due while Dave has records; once they are gone, the deletion completes.
    assert!(store.finish_due_deletions().await.unwrap().is_empty());
    store
        .execute_raw_for_tests("DELETE FROM audit_records WHERE end_user = 'dave'")
        .await
        .unwrap();
    let finished = store.finish_due_deletions().await.unwrap();
    assert_eq!(finished.len(), 1);
    assert_eq!(finished[0].status, PiStatus::Done);
    assert_eq!(store.end_user("t1", "dave").await.unwrap(), None);
    let listed = store.pi_requests("t1", Some(PiStatus::Open)).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, access.id);
    store.close().await;
}
both!(pi_deletions_wait_for_the_retention_period, pi_requests);

async fn console_logins(db: &TestDb) {
    use hegui_store::console::{LOCK_MS, Login, MAX_FAILURES};
    let store = db.open().await;
    assert!(
        store
            .set_console_user("t1", "li", Role::Operator, "short")
            .await
            .is_err()
    );
    assert!(
        store
            .set_console_user("t1", "li li", Role::Operator, "long enough password")
            .await
            .is_err()
    );
    store
        .set_console_user("t1", "li", Role::Operator, "long enough password")
        .await
        .unwrap();
    let now = 1_000_000;
    let Login::Ok(user, session) = store
        .console_login("li", "long enough password", now)
        .await
        .unwrap()
    else {
        panic!("the right password was refused");
    };
    assert_eq!((user.tenant_id.as_str(), user.role), ("t1", Role::Operator));
    let live = store
        .console_session(&session.token, now + 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (live.user, live.csrf.clone()),
        (user.clone(), session.csrf.clone())
    );
    assert_eq!(store.console_session("nope", now).await.unwrap(), None);
    assert_eq!(
        store
            .console_session(&session.token, session.expires_ms)
            .await
            .unwrap(),
        None,
        "an expired session"
    );
    assert_eq!(
        store.console_login("nobody", "x", now).await.unwrap(),
        Login::Wrong
    );
    // Wrong passwords lock the account at the fifth; then even the right one is refused
    // until the lock ends.
    for i in 1..=MAX_FAILURES {
        let got = store
            .console_login("li", "wrong password!", now)
            .await
            .unwrap();
        if i < MAX_FAILURES {
            assert_eq!(got, Login::Wrong, "failure {i}");
        } else {
            assert_eq!(got, Login::Locked(now + LOCK_MS), "failure {i}");
        }
    }
    assert_eq!(
        store
            .console_login("li", "long enough password", now + 1)
            .await
            .unwrap(),
        Login::Locked(now + LOCK_MS)
    );
    assert!(matches!(
        store
            .console_login("li", "long enough password", now + LOCK_MS + 1)
            .await
            .unwrap(),
        Login::Ok(..)
    ));
    store.end_console_session(&session.token).await.unwrap();
    assert_eq!(
        store
            .console_session(&session.token, now + 1)
            .await
            .unwrap(),
        None
    );
    store.close().await;
}
both!(console_logins_lock_and_sessions_end, console_logins);

async fn search_and_chain(db: &TestDb) {
    use hegui_store::ledger::search::Search;
    let store = db.open().await;
    let blocked = r#"{"schema":2,"stages":[{"stage":"input","verdict":"block","hits":[{"pattern":"x","risk":"A.1.h","level":"block"}]}]}"#;
    let records = [
        NewRecord::new("chat")
            .tenant("t1")
            .end_user("alice")
            .at(1_000)
            .outcome("ok"),
        NewRecord::new("chat")
            .tenant("t1")
            .end_user("bob")
            .at(2_000)
            .outcome("blocked_input")
            .verdicts(blocked),
        NewRecord::new("governance")
            .tenant("t1")
            .at(3_000)
            .outcome("ok"),
        NewRecord::new("chat")
            .tenant("t2")
            .end_user("alice")
            .at(4_000)
            .outcome("ok"),
    ];
    store
        .append_batch(&records, &WriterOptions::default())
        .await
        .unwrap();
    let find = |search: Search| {
        let store = store.clone();
        async move {
            store
                .search_records(&search, 10)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.seq)
                .collect::<Vec<_>>()
        }
    };
    let t1 = || Search {
        tenant: "t1".into(),
        ..Default::default()
    };
    // (search, seqs newest first)
    let cases = [
        (t1(), vec![3, 2, 1]),
        (
            Search {
                user: Some("alice".into()),
                ..t1()
            },
            vec![1],
        ),
        (
            Search {
                since_ms: Some(2_000),
                until_ms: Some(3_000),
                ..t1()
            },
            vec![2],
        ),
        (
            Search {
                outcome: Some("blocked_input".into()),
                ..t1()
            },
            vec![2],
        ),
        (
            Search {
                risk: Some("A.1.h".into()),
                ..t1()
            },
            vec![2],
        ),
        (
            Search {
                verdict: Some("block".into()),
                ..t1()
            },
            vec![2],
        ),
        (
            Search {
                kind: Some("governance".into()),
                ..t1()
            },
            vec![3],
        ),
        (
            Search {
                risk: Some("A.1".into()),
                ..t1()
            },
            vec![],
        ),
        (
            Search {
                tenant: "t2".into(),
                ..Default::default()
            },
            vec![4],
        ),
    ];
    for (search, want) in cases {
        assert_eq!(find(search.clone()).await, want, "{search:?}");
    }
    let id = store.search_records(&t1(), 1).await.unwrap()[0].id.clone();
    let prefix = Search {
        id_prefix: Some(id.clone()),
        ..t1()
    };
    assert_eq!(find(prefix).await, vec![3]);
    let position = store.chain_position(&id).await.unwrap().unwrap();
    assert!(position.link_ok);
    assert_eq!(position.record.seq, 3);
    assert_eq!(store.chain_position("nope").await.unwrap(), None);
    store
        .execute_raw_for_tests("UPDATE audit_records SET end_user = 'mallory' WHERE seq = 3")
        .await
        .unwrap();
    assert!(!store.chain_position(&id).await.unwrap().unwrap().link_ok);
    store.close().await;
}
both!(
    records_are_searched_and_placed_in_the_chain,
    search_and_chain
);
