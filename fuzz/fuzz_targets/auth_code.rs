//! Authorization codes come back from relying applications at `/oauth/v1/token`: any
//! text through `code::route` never panics, a route it finds is a URL-safe tail of the
//! code, and a code composed from any URL-safe parts routes to its own route.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_edge::code;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Some(route) = code::route(&text) {
        assert!(text.ends_with(route));
        assert!(!route.is_empty() && !route.contains('.'));
        assert_eq!(code::code_hash(&text).len(), 64);
    }
    let url_safe: String = text
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    if url_safe.len() >= 2 && url_safe.len() < code::MAX_CODE_LEN {
        let (random, route) = url_safe.split_at(url_safe.len() / 2);
        assert_eq!(code::route(&code::compose(random, route)), Some(route));
    }
});
