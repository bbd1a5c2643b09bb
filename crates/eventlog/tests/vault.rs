//! The data keys on a real nats-server: made once (two writers agree), sealed fields open only
//! with the case's key, a KEK rotation rewraps every key and erases the old wrapping, and an
//! erasure leaves nothing to open.

use cipher::{Kek, Keyring};
use domain::CaseId;
use eventlog::Vault;

const A: &str = "0101010101010101010101010101010101010101010101010101010101010101";
const B: &str = "0202020202020202020202020202020202020202020202020202020202020202";

fn ring(current: &str, previous: &[&str]) -> Keyring {
    Keyring::new(
        Kek::from_hex(current).expect("kek"),
        previous
            .iter()
            .map(|p| Kek::from_hex(p).expect("kek"))
            .collect(),
    )
}

#[tokio::test]
async fn data_keys_are_made_once_rewrapped_on_rotation_and_erased_for_good() {
    let nats = testkit::NatsServer::start();
    let js = eventlog::Connection::from(nats.connect().await);
    let (one, two) = (
        Vault::open(&js, 1, ring(A, &[])).await.expect("vault"),
        Vault::open(&js, 1, ring(A, &[])).await.expect("vault"),
    );
    let case = CaseId(uuid::Uuid::now_v7());
    let other = CaseId(uuid::Uuid::now_v7());
    assert!(one.key(case).await.expect("read").is_none());
    // Two writers at once: one key.
    let (k1, k2) = tokio::join!(one.key_or_create(case), two.key_or_create(case));
    let (k1, k2) = (k1.expect("key"), k2.expect("key"));
    let sealed = k1.seal("ctx", b"Zhen Shiyin");
    assert_eq!(
        k2.open("ctx", &sealed).expect("the same key"),
        b"Zhen Shiyin"
    );
    one.key_or_create(other).await.expect("key");

    // Rotation: B wraps, A still unwraps until every key is rewrapped; then A is not needed.
    let rotating = Vault::open(&js, 1, ring(B, &[A])).await.expect("vault");
    let done = rotating.rotate().await.expect("rotate");
    assert_eq!((done.rewrapped, done.current), (2, 0));
    assert_eq!(rotating.rotate().await.expect("again").rewrapped, 0);
    let only_b = Vault::open(&js, 1, ring(B, &[])).await.expect("vault");
    let key = only_b.key(case).await.expect("read").expect("rewrapped");
    assert_eq!(key.open("ctx", &sealed).expect("opens"), b"Zhen Shiyin");
    assert!(
        Vault::open(&js, 1, ring(A, &[]))
            .await
            .expect("vault")
            .key(case)
            .await
            .is_err(),
        "the old KEK no longer unwraps anything stored"
    );
    let stream = js.jetstream().get_stream("XF_KEYS").await.expect("stream");
    assert_eq!(
        stream.cached_info().state.messages,
        2,
        "the old wrappings are erased"
    );

    // Erasure: gone, for every process, and erasing again is harmless.
    assert_eq!(only_b.erase(case).await.expect("erase"), 1);
    assert_eq!(only_b.erase(case).await.expect("again"), 0);
    let fresh = Vault::open(&js, 1, ring(B, &[])).await.expect("vault");
    assert!(fresh.key(case).await.expect("read").is_none());
    assert!(fresh.key(other).await.expect("read").is_some());
}
