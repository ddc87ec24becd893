//! The prompt's dealings with the page and the browser: telling the page it is complete,
//! the browser's languages and clock, `localStorage`, focus, the interactive mark.

use tessera_shared::v1::Completion;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CustomEvent, CustomEventInit, HtmlElement, ShadowRoot};

/// The event the host page can listen for (and cancel, to handle the redirect itself).
pub const COMPLETE_EVENT: &str = "tessera:complete";

/// Dispatches a cancelable `tessera:complete` event with `{code, state}` on the shadow
/// host around `target` (or `target` itself outside a shadow root), then goes to
/// `completion.redirect` unless a listener called `preventDefault()`.
pub fn complete(target: &HtmlElement, completion: &Completion) {
    if dispatch(target, completion) {
        redirect(&completion.redirect);
    }
}

/// Returns whether the default action (the redirect) should happen.
fn dispatch(target: &HtmlElement, completion: &Completion) -> bool {
    let detail = js_sys::Object::new();
    let set = |key: &str, value: &str| {
        js_sys::Reflect::set(&detail, &JsValue::from_str(key), &JsValue::from_str(value))
    };
    if set("code", &completion.code).is_err() || set("state", &completion.state).is_err() {
        return true;
    }
    let init = CustomEventInit::new();
    init.set_bubbles(true);
    init.set_cancelable(true);
    init.set_composed(true);
    init.set_detail(&detail);
    let Ok(event) = CustomEvent::new_with_event_init_dict(COMPLETE_EVENT, &init) else {
        return true;
    };
    let host: web_sys::EventTarget = match target.get_root_node().dyn_into::<ShadowRoot>() {
        Ok(root) => root.host().into(),
        Err(_) => target.clone().into(),
    };
    host.dispatch_event(&event).unwrap_or(true)
}

fn redirect(url: &str) {
    if !crate::flow::is_web_url(url) {
        return;
    }
    if let Some(window) = web_sys::window() {
        let _ = window.location().assign(url);
    }
}

/// The browser's preferred languages, most preferred first.
pub fn languages() -> Vec<String> {
    let Some(window) = web_sys::window() else {
        return Vec::new();
    };
    let navigator = window.navigator();
    let mut languages: Vec<String> = navigator
        .languages()
        .iter()
        .filter_map(|value| value.as_string())
        .collect();
    if languages.is_empty()
        && let Some(language) = navigator.language()
    {
        languages.push(language);
    }
    languages
}

/// Unix seconds now.
pub fn now() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

/// Marks the moment the first method screen can be used (`cargo xtask bench` reads it).
pub fn mark_interactive() {
    if let Some(performance) = web_sys::window().and_then(|window| window.performance()) {
        let _ = performance.mark(INTERACTIVE_MARK);
    }
}

/// The `performance` mark set when the first method screen is interactive.
pub const INTERACTIVE_MARK: &str = "tessera:interactive";

/// `localStorage`, when the page may use it (it throws in some sandboxed frames).
fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn read(key: &str) -> Option<String> {
    storage()?.get_item(key).ok().flatten()
}

fn write(key: &str, value: &str) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(key, value);
    }
}

/// The method last used in this browser.
pub fn last_method() -> Option<tessera_shared::v1::Method> {
    crate::keep::parse_method(&read(crate::keep::METHOD_KEY)?)
}

pub fn save_method(method: tessera_shared::v1::Method) {
    write(crate::keep::METHOD_KEY, method.as_str());
}

/// The remembered-device tokens this browser keeps, unexpired.
pub fn remembered() -> Vec<String> {
    let stored = read(crate::keep::DEVICES_KEY);
    crate::keep::unexpired(stored.as_deref(), now())
        .into_iter()
        .map(|kept| kept.token)
        .collect()
}

pub fn keep_device(offer: &tessera_shared::v1::RememberOffer) {
    let stored = read(crate::keep::DEVICES_KEY);
    write(
        crate::keep::DEVICES_KEY,
        &crate::keep::with_offer(stored.as_deref(), offer, now()),
    );
}

/// Whether the focus is on nothing (it was on an element that went away) or inside the
/// prompt around `target`, so that moving it to a new screen takes it from no one.
pub fn focus_is_ours(target: &HtmlElement) -> bool {
    let Some(document) = web_sys::window().and_then(|window| window.document()) else {
        return false;
    };
    let Some(active) = document.active_element() else {
        return true;
    };
    if document
        .body()
        .is_some_and(|body| active == *body.unchecked_ref::<web_sys::Element>())
    {
        return true;
    }
    match target.get_root_node().dyn_into::<ShadowRoot>() {
        Ok(root) => root.host() == active,
        Err(_) => target.contains(Some(&active)),
    }
}
