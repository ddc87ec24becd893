//! What reaches the prompt from outside the Wasm: edge answers (start, push status,
//! completion, error bodies), the application's branding, `localStorage` values and the
//! browser's language tags. None may panic; the checked values keep their promises.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_prompt::strings::Lang;
use tessera_prompt::{api, brand, keep};
use tessera_shared::v1::{Completion, ErrorInfo, PushStatus, StartResponse};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for ok in [true, false] {
        let _ = api::decode::<StartResponse>(ok, text);
        let _ = api::decode::<PushStatus>(ok, text);
        let _ = api::decode::<Completion>(ok, text);
    }
    if let Some(accent) = brand::accent(text) {
        assert_eq!(accent.color.len(), 7);
        assert!(accent.color.starts_with('#'));
        assert!(accent.color[1..].bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(["#000000", "#ffffff"].contains(&accent.on_color));
    }
    if let Some(url) = brand::logo(text) {
        assert!(url.starts_with("https://") || url.starts_with("http://"));
    }
    let _ = keep::parse_method(text);
    for kept in keep::unexpired(Some(text), 0) {
        assert!(kept.expires_at > 0);
    }
    let lang = Lang::detect(text.split(','));
    if let Ok(info) = serde_json::from_str::<ErrorInfo>(text) {
        let _ = lang.messages().refusal(&info, None);
    }
});
