//! The per-unit feed: every event of a case a unit is or was accountable for, durably.

use std::time::Duration;

use crate::common::*;
use futures::TryStreamExt;
use serde_json::json;

async fn counts(
    js: &async_nats::jetstream::Context,
    filter: &str,
) -> std::collections::BTreeMap<String, usize> {
    let stream = js.get_stream("XF_FEED").await.expect("feed stream");
    let info = stream.info_with_subjects(filter).await.expect("subjects");
    info.try_collect().await.expect("subjects")
}

/// Wait until the feed holds `want` messages on each of `subjects`.
async fn delivered(js: &async_nats::jetstream::Context, what: &str, want: [(&str, usize); 2]) {
    testkit::eventually(Duration::from_secs(20), what, || async move {
        let all = counts(js, "xf.feed.>").await;
        want.iter()
            .all(|(subject, n)| all.get(*subject) == Some(n))
            .then_some(())
    })
    .await;
}

/// A feed service with its store under `data`, returned once its stream exists: the service
/// creates `XF_FEED` as it starts, and a test that looked at the stream before then would fail
/// for nothing (it did, once in CI).
pub(crate) async fn start_feed(
    app: &App,
    data: &std::path::Path,
) -> tokio::task::JoinHandle<anyhow::Result<()>> {
    start_feed_until(app, data, std::future::pending()).await
}

/// [`start_feed`], stopping when `shutdown` resolves: the batch in hand is finished first
/// (published and its checkpoint committed), where `abort` may stop it between the two.
async fn start_feed_until(
    app: &App,
    data: &std::path::Path,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> tokio::task::JoinHandle<anyhow::Result<()>> {
    let mut cfg = test_config();
    cfg.data_dir = data.to_owned();
    let client = app.nats.connect().await;
    let feed = tokio::spawn(async move {
        xinfang::projector::run_projectors_with(&cfg, client, &["feed".into()], shutdown).await
    });
    let js = async_nats::jetstream::new(app.nats.connect().await);
    testkit::eventually(Duration::from_secs(20), "the feed stream", || {
        let js = js.clone();
        async move { js.get_stream("XF_FEED").await.ok().map(drop) }
    })
    .await;
    feed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn units_receive_the_events_of_cases_they_hold_or_held() {
    let app = spawn_app().await;
    let data = tempfile::tempdir().expect("tmp");
    let feed = start_feed(&app, data.path()).await;
    let js = async_nats::jetstream::new(app.nats.connect().await);

    let id = app.register().await;
    assert_eq!(
        app.post(
            "county-token",
            &format!("/v1/cases/{id}/accept"),
            &json!({})
        )
        .await
        .0,
        200
    );
    assert_eq!(
        app.post(
            "county-token",
            &format!("/v1/cases/{id}/assign"),
            &json!({"unit": "land_bureau"})
        )
        .await
        .0,
        200
    );
    let (s, b, _) = app
        .post(
            "handler-land-token",
            &format!("/v1/cases/{id}/reply"),
            &json!({"outcome": "supported", "text": "t"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");

    let gaoqiao = format!("xf.feed.gaoqiao.{id}");
    let land = format!("xf.feed.land_bureau.{id}");
    delivered(&js, "the feed to deliver", [(&gaoqiao, 4), (&land, 2)]).await;
    let all = counts(&js, "xf.feed.>").await;
    assert_eq!(
        all.len(),
        2,
        "only the two units that held the case: {all:?}"
    );
    let stream = js.get_stream("XF_FEED").await.expect("feed");
    let first = stream
        .direct_get_first_for_subject(land.clone())
        .await
        .expect("first land message");
    let event: serde_json::Value = serde_json::from_slice(&first.payload).expect("json");
    assert_eq!(
        event["type"], "CaseAssigned",
        "the unit learns of the work sent to it"
    );
    assert_eq!(event["case_id"], json!(id));

    // Restarted, the feed resumes from its checkpoint: nothing is delivered twice.
    feed.abort();
    let feed = start_feed(&app, data.path()).await;
    assert_eq!(
        app.post(
            "handler-land-token",
            &format!("/v1/cases/{id}/close"),
            &json!({})
        )
        .await
        .0,
        200
    );
    delivered(
        &js,
        "the close to be delivered",
        [(&gaoqiao, 5), (&land, 3)],
    )
    .await;

    // A store written with another layout is folded again from the log, up to its checkpoint and
    // without publishing: the case's units are known again, so the next event reaches both.
    feed.abort();
    let _ = feed.await;
    let dir = data.path().join("feed");
    let checkpoint = {
        let store = projections::Store::open_current(&dir).expect("feed store");
        let checkpoint = store.checkpoint().expect("checkpoint");
        let mut tx = store.tx();
        tx.set_model_version(0);
        store.commit(tx, checkpoint).expect("commit");
        checkpoint
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let feed = start_feed_until(&app, data.path(), async {
        let _ = stopped.await;
    })
    .await;
    assert_eq!(
        app.post(
            "county-token",
            &format!("/v1/cases/{id}/follow-up"),
            &json!({"satisfaction": "satisfied"})
        )
        .await
        .0,
        200
    );
    delivered(
        &js,
        "the follow-up to be delivered",
        [(&gaoqiao, 6), (&land, 4)],
    )
    .await;
    // Stopped, not aborted: an abort between the batch's publish and its commit left the
    // checkpoint behind what was delivered (it failed once so; the next start publishes the
    // batch again, deduplicated by message id).
    let _ = stop.send(());
    feed.await.expect("feed task").expect("feed stopped");
    let store = projections::Store::open_current(&dir).expect("feed store");
    assert!(store.checkpoint().expect("checkpoint") > checkpoint);
    assert_eq!(
        store.model_version().expect("version"),
        projections::Projection::version(&projections::feed::Units),
        "the current layout"
    );
}
