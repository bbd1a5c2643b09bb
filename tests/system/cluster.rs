//! A 3-node cluster with an R3 stream: killing the stream leader under a stream of commands loses
//! no acknowledged command and duplicates none.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::DateTime;

use crate::common::{conn, county, register_command};
use commands::{CaseService, CommandRequest};
use domain::command::AcceptCase;
use domain::*;
use eventlog::*;
use testkit::{eventually, NatsCluster};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_leader_killed_under_load_loses_and_duplicates_nothing() {
    let mut cluster = NatsCluster::start(3);
    let client = async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connect(
            cluster
                .urls()
                .split(',')
                .map(|u| u.parse::<async_nats::ServerAddr>().expect("url"))
                .collect::<Vec<_>>(),
        )
        .await
        .expect("connect");
    let js = async_nats::jetstream::new(client);
    let cfg = LogConfig {
        replicas: 3,
        ..LogConfig::default()
    };
    // The cluster needs a meta leader before it can create an R3 stream.
    let log = eventually(Duration::from_secs(30), "an R3 stream", || {
        let (js, cfg) = (js.clone(), cfg.clone());
        async move { EventLog::open(&conn(&js), &cfg).await.ok() }
    })
    .await;
    let units: BTreeMap<UnitCode, UnitKind> =
        [(UnitCode::parse("gaoqiao").expect("u"), UnitKind::Township)].into();
    let stores = testkit::config::stores(&js, log, 3).await;
    let svc = CaseService::new(
        stores,
        Policy::default(),
        units,
        testkit::config::test_keys(),
        testkit::config::signer(),
    );
    let p = county();
    let req = |case_id, command| CommandRequest::new(&p, case_id, command);
    let at = DateTime::parse_from_rfc3339("2026-03-02T09:30:00+08:00").expect("ts");

    let total = 120;
    let mut ids = Vec::new();
    for i in 0..total {
        if i == total / 3 {
            let mut stream = js.get_stream("XF_EVENTS").await.expect("stream");
            let info = stream.info().await.expect("info");
            let leader = info
                .cluster
                .as_ref()
                .and_then(|c| c.leader.clone())
                .expect("a leader");
            cluster.node_named(&leader).expect("leader node").kill();
        }
        let out = svc
            .execute(req(None, register_command(Channel::Phone, 1, at)))
            .await
            .unwrap_or_else(|e| panic!("register {i}: {e}"));
        let acc = svc
            .execute(req(
                Some(out.committed.case_id),
                Command::Accept(AcceptCase {
                    late_reason: None,
                    occurred_at: None,
                    new_facts: None,
                }),
            ))
            .await
            .unwrap_or_else(|e| panic!("accept {i}: {e}"));
        assert_eq!(acc.committed.version, 2);
        ids.push(out.committed.case_id);
    }
    // Every acknowledged command is there exactly once.
    let mut stream = js.get_stream("XF_EVENTS").await.expect("stream");
    let info = stream.info().await.expect("info");
    assert_eq!(
        info.state.messages,
        2 * total as u64,
        "two events per case, no duplicates"
    );
    for id in ids {
        let history = svc.history(id).await.expect("history");
        let versions: Vec<u64> = history.iter().map(|s| s.envelope.version).collect();
        assert_eq!(versions, vec![1, 2], "case {id}");
    }
}
