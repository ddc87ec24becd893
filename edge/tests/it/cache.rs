//! The per-isolate directory cache: hot reads served for `CACHE_SECONDS`, own writes seen
//! at once, another isolate's writes seen when the entry expires.

use tessera_edge::cache::{CACHE_SECONDS, Cached, DirectoryCache};
use tessera_edge::directory::{AppRecord, DirectoryCommand, DirectoryReply};
use tessera_edge::memory::MemoryStores;
use tessera_edge::store::Stores;
use tessera_shared::SecretString;

use super::{NOW, block_on};

const CLIENT: &str = "DICACHE0000000000001";

fn app(name: &str) -> AppRecord {
    AppRecord {
        client_id: CLIENT.into(),
        realm: "cache".into(),
        client_secret: SecretString::from("s".repeat(40)),
        name: name.into(),
        origins: Vec::new(),
        id_token_format: Default::default(),
    }
}

fn name_seen(stores: &impl Stores) -> Option<String> {
    let command = DirectoryCommand::GetApplication {
        client_id: CLIENT.into(),
    };
    match block_on(stores.directory(command)).unwrap() {
        DirectoryReply::Application(app) => app.map(|app| app.name),
        other => panic!("unexpected reply {other:?}"),
    }
}

fn put(stores: &impl Stores, name: &str) {
    let command = DirectoryCommand::PutApplication { app: app(name) };
    assert!(matches!(
        block_on(stores.directory(command)).unwrap(),
        DirectoryReply::Stored
    ));
}

#[test]
fn own_writes_at_once_other_writes_after_the_cache_time() {
    let inner = MemoryStores::default();
    let cache = DirectoryCache::default();
    let at = |now| Cached {
        inner: &inner,
        cache: &cache,
        now,
    };

    // Unknown, then registered through this isolate: seen at once (the write clears).
    assert_eq!(name_seen(&at(NOW)), None);
    put(&at(NOW), "First");
    assert_eq!(name_seen(&at(NOW)).as_deref(), Some("First"));

    // Changed behind the cache (as another isolate would): the cached name is served
    // until the entry is CACHE_SECONDS old, then the new one.
    put(&inner, "Second");
    assert_eq!(
        name_seen(&at(NOW + CACHE_SECONDS - 1)).as_deref(),
        Some("First")
    );
    assert_eq!(
        name_seen(&at(NOW + CACHE_SECONDS)).as_deref(),
        Some("Second")
    );

    // A clock that steps back never serves an entry from the future.
    put(&inner, "Third");
    assert_eq!(name_seen(&at(NOW - 1)).as_deref(), Some("Third"));
}
