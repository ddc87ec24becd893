//! Telling the host page that the prompt is complete.

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
