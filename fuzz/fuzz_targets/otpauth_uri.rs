//! Arbitrary text as an `otpauth://` URI: parsing never panics, and whatever is accepted
//! renders back to a URI that parses to the same key and parameters.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_shared::otpauth::KeyUri;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(uri) = KeyUri::parse(text) else { return };
    let rendered = uri.to_uri();
    let again = match KeyUri::parse(rendered.expose_secret()) {
        Ok(again) => again,
        Err(error) => panic!("our own URI does not parse: {error}"),
    };
    assert_eq!(again.kind(), uri.kind());
    assert_eq!(again.issuer(), uri.issuer());
    assert_eq!(again.account(), uri.account());
    assert_eq!(again.algorithm(), uri.algorithm());
    assert_eq!(again.digits(), uri.digits());
    assert_eq!(again.secret().expose_secret(), uri.secret().expose_secret());
    assert_eq!(again.to_uri().expose_secret(), rendered.expose_secret());
});
