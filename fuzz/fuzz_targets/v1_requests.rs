//! The other untrusted inputs of `shared::v1`: Admin API parameters (as a JSON body and as
//! a form), help-desk searches, account-update requests and ticket numbers, and pushes as
//! a device reads them. Never a panic; what is accepted keeps its invariants.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_shared::v1::admin::{
    BypassCodeOrder, BypassCodeSource, CreateBypassCodesParams, CreatePhoneParams,
    CreateTokenParams, CreateUserParams, Envelope, NewPhone, NewToken, NewUser, Page, PageParams,
    UserChanges,
};
use tessera_shared::v1::device::{Push, PushKind, PushRequest};
use tessera_shared::v1::helpdesk::{
    AccountChange, AccountUpdate, AccountUpdateRequest, ItemNumber, RequestNumber, SearchQuery,
};

fn admin_params(
    parse: impl Fn() -> Option<(
        CreateUserParams,
        CreatePhoneParams,
        CreateTokenParams,
        CreateBypassCodesParams,
        PageParams,
    )>,
) {
    let Some((user, phone, token, bypass, page)) = parse() else {
        return;
    };
    if let Ok(user) = NewUser::try_from(&user) {
        assert!(!user.username.is_empty() && user.status.is_settable());
    }
    let _ = UserChanges::try_from(&CreateUserParams::default());
    if let Ok(phone) = NewPhone::try_from(&phone) {
        assert!(phone.number.is_none_or(|n| n.as_str().starts_with('+')));
    }
    let _ = NewToken::try_from(&token);
    if let Ok(order) = BypassCodeOrder::try_from(&bypass) {
        match &order.source {
            BypassCodeSource::Generate(n) => assert!((1..=10).contains(n)),
            BypassCodeSource::Given(codes) => assert!((1..=10).contains(&codes.len())),
        }
        let _ = order.expires_at(i64::MAX);
    }
    if let Ok(page) = Page::try_from(&page) {
        assert!((1..=300).contains(&page.limit));
    }
}

fuzz_target!(|data: &[u8]| {
    admin_params(|| {
        let value: serde_json::Value = serde_json::from_slice(data).ok()?;
        Some((
            serde_json::from_value(value.clone()).ok()?,
            serde_json::from_value(value.clone()).ok()?,
            serde_json::from_value(value.clone()).ok()?,
            serde_json::from_value(value.clone()).ok()?,
            serde_json::from_value(value).ok()?,
        ))
    });
    admin_params(|| {
        Some((
            serde_urlencoded::from_bytes(data).ok()?,
            serde_urlencoded::from_bytes(data).ok()?,
            serde_urlencoded::from_bytes(data).ok()?,
            serde_urlencoded::from_bytes(data).ok()?,
            serde_urlencoded::from_bytes(data).ok()?,
        ))
    });
    let _ = serde_json::from_slice::<Envelope<serde_json::Value>>(data);

    if let Ok(wire) = serde_json::from_slice::<PushRequest>(data)
        && let Ok(push) = Push::try_from(wire)
    {
        assert!(push.expires_at > push.time);
        if let PushKind::Verified { code_length } = push.kind {
            assert!((3..=6).contains(&code_length));
        }
        assert_eq!(Push::try_from(push.to_wire()), Ok(push));
    }

    if let Ok(wire) = serde_json::from_slice::<AccountUpdateRequest>(data)
        && let Ok(update) = AccountUpdate::try_from(&wire)
    {
        if let AccountChange::Administrative(people) = &update.change {
            assert!(!people.is_empty());
        }
        let _ = update.new_phones();
    }

    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(query) = SearchQuery::parse(text) {
        let _ = query.matches(text, text, text);
    }
    if let Ok(number) = text.parse::<RequestNumber>() {
        assert_eq!(number.to_string(), text.trim().to_uppercase());
    }
    if let Ok(number) = text.parse::<ItemNumber>() {
        assert_eq!(number.to_string().parse::<ItemNumber>(), Ok(number));
    }
});
