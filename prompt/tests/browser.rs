//! The prompt's components in a real browser (headless Chromium through
//! wasm-bindgen-test-runner): the state machine drives the rendered DOM.
//!
//! Run: `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//! cargo test -p tessera-prompt --target wasm32-unknown-unknown` (chromedriver on `PATH`,
//! options in `prompt/webdriver.json`).
#![cfg(target_arch = "wasm32")]
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;

use leptos::prelude::*;
use tessera_prompt::flow::{Event, Flow};
use tessera_prompt::{host, strings, ui::PromptView};
use tessera_shared::v1::{Application, Completion, Method, MethodOption, StartResponse};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

fn started(methods: &[Method]) -> Arc<StartResponse> {
    Arc::new(StartResponse {
        session: "S1".into(),
        application: Application {
            name: "Tessera Demo".into(),
            logo_url: None,
            accent_color: None,
            help_url: None,
            manage_devices_url: None,
        },
        username: "alice".into(),
        methods: methods
            .iter()
            .map(|&method| MethodOption {
                method,
                device_name: (method == Method::Push).then(|| "Alice's phone".into()),
                device_id: None,
            })
            .collect(),
        default_method: methods.first().copied(),
        completion: None,
        expires_at: 0,
    })
}

fn passcode_screen(error: Option<&str>, attempt: u32) -> Flow {
    Flow::Method {
        started: started(&[Method::Passcode, Method::Push]),
        method: Method::Passcode,
        error: error.map(str::to_owned),
        attempt,
    }
}

/// A fresh element in the document body.
fn container() -> HtmlElement {
    let document = web_sys::window().unwrap().document().unwrap();
    let element: HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&element).unwrap();
    element
}

/// Mounts a [`PromptView`] of `flow`; what the user does is recorded in `submitted`, and
/// choices go through the real state machine.
fn mount_view(flow: RwSignal<Flow>, submitted: RwSignal<Vec<String>>) -> HtmlElement {
    let root = container();
    let on_submit = Callback::new(move |typed: String| submitted.update(|all| all.push(typed)));
    let on_choose = Callback::new(move |method: Method| {
        flow.update(|state| {
            *state = std::mem::replace(state, Flow::Loading).next(Event::Choose(method));
        });
    });
    leptos::mount::mount_to(root.clone(), move || {
        view! { <PromptView flow on_submit on_choose /> }
    })
    .forget();
    root
}

/// Lets the reactive system and the DOM catch up.
async fn settle() {
    for _ in 0..3 {
        leptos::task::tick().await;
    }
}

/// Waits up to `millis` for `ready`, polling every 50 ms.
async fn wait_for(millis: u32, ready: impl Fn() -> bool) -> bool {
    for _ in 0..millis / 50 {
        if ready() {
            return true;
        }
        let sleep = js_sys::Promise::new(&mut |resolve, _| {
            web_sys::window()
                .unwrap()
                .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 50)
                .unwrap();
        });
        wasm_bindgen_futures::JsFuture::from(sleep).await.unwrap();
    }
    ready()
}

fn find(root: &Element, selector: &str) -> Option<Element> {
    root.query_selector(selector).unwrap()
}

fn text(root: &Element, selector: &str) -> String {
    find(root, selector)
        .unwrap_or_else(|| panic!("{selector} is shown"))
        .text_content()
        .unwrap_or_default()
}

#[wasm_bindgen_test]
async fn passcode_screen_is_labelled() {
    let root = mount_view(
        RwSignal::new(passcode_screen(None, 0)),
        RwSignal::new(vec![]),
    );
    settle().await;

    assert_eq!(text(&root, "h2"), "Tessera Demo");
    assert_eq!(text(&root, ".user"), "Signed in as alice");
    let input = find(&root, "input").expect("an input");
    for (name, value) in [
        ("name", "passcode"),
        ("inputmode", "numeric"),
        ("autocomplete", "one-time-code"),
        ("maxlength", "8"),
    ] {
        assert_eq!(input.get_attribute(name).as_deref(), Some(value), "{name}");
    }
    let label = find(&root, "label").expect("a label");
    assert_eq!(
        label.text_content().as_deref(),
        Some(strings::PASSCODE_LABEL)
    );
    assert_eq!(label.get_attribute("for"), Some(input.id()));
    assert_eq!(text(&root, "form button[type=submit]"), strings::VERIFY);
    assert!(find(&root, "[role=alert]").is_none(), "no error yet");
    assert_eq!(
        text(&root, ".options button"),
        "Send a push notificationAlice's phone"
    );
}

#[wasm_bindgen_test]
async fn submitting_reports_what_was_typed_once() {
    let flow = RwSignal::new(passcode_screen(None, 0));
    let submitted = RwSignal::new(vec![]);
    let root = mount_view(flow, submitted);
    settle().await;

    let input: HtmlInputElement = find(&root, "input").unwrap().unchecked_into();
    input.set_value("123456");
    let event = web_sys::Event::new("input").unwrap();
    input.dispatch_event(&event).unwrap();
    let button: HtmlElement = find(&root, "button[type=submit]").unwrap().unchecked_into();
    button.click();
    settle().await;
    assert_eq!(submitted.get_untracked(), ["123456"]);

    // While the passcode is on its way, the form stays as typed and ignores more submits.
    flow.update(|state| *state = std::mem::replace(state, Flow::Loading).next(Event::Submit));
    settle().await;
    let input: HtmlInputElement = find(&root, "input").unwrap().unchecked_into();
    assert_eq!(input.value(), "123456");
    button.click();
    settle().await;
    assert_eq!(submitted.get_untracked().len(), 1);
    assert_eq!(text(&root, ".progress"), strings::VERIFYING);
}

#[wasm_bindgen_test]
async fn a_wrong_passcode_shows_the_alert_and_a_fresh_focused_input() {
    let flow = RwSignal::new(passcode_screen(None, 0));
    let root = mount_view(flow, RwSignal::new(vec![]));
    settle().await;
    let input: HtmlInputElement = find(&root, "input").unwrap().unchecked_into();
    input.set_value("000000");

    flow.set(passcode_screen(
        Some("Incorrect passcode. 9 attempts left."),
        1,
    ));
    settle().await;

    assert_eq!(
        text(&root, "[role=alert]"),
        "Incorrect passcode. 9 attempts left."
    );
    let input: HtmlInputElement = find(&root, "input").unwrap().unchecked_into();
    assert_eq!(input.value(), "", "the input is cleared");
    assert_eq!(input.get_attribute("aria-invalid").as_deref(), Some("true"));
    let described_by = input.get_attribute("aria-describedby").unwrap_or_default();
    let alert_id = find(&root, "[role=alert]").unwrap().id();
    assert!(described_by.contains(&alert_id), "{described_by}");
    let focused = web_sys::window()
        .unwrap()
        .document()
        .unwrap()
        .active_element();
    assert_eq!(focused, Some(input.unchecked_into()));
}

#[wasm_bindgen_test]
async fn fatal_errors_show_the_server_message() {
    let flow = RwSignal::new(Flow::Fatal {
        started: None,
        message: "Enrollment is required.".into(),
    });
    let root = mount_view(flow, RwSignal::new(vec![]));
    settle().await;
    assert_eq!(text(&root, "[role=alert]"), "Enrollment is required.");
    assert!(find(&root, "input").is_none());
    assert!(find(&root, "header").is_none());
}

#[wasm_bindgen_test]
async fn other_options_switch_methods() {
    let flow = RwSignal::new(passcode_screen(Some("Wrong."), 1));
    let root = mount_view(flow, RwSignal::new(vec![]));
    settle().await;
    let push: HtmlElement = find(&root, ".options button").unwrap().unchecked_into();
    push.click();
    settle().await;

    assert_eq!(text(&root, ".screen [role=status]"), strings::NOT_AVAILABLE);
    assert!(find(&root, "input").is_none());
    assert!(
        find(&root, "[role=alert]").is_none(),
        "the old error is gone"
    );
    assert_eq!(text(&root, ".options button"), "Enter a passcode");
    let screen = find(&root, ".screen");
    let focus_moved = wait_for(1000, || {
        web_sys::window()
            .unwrap()
            .document()
            .unwrap()
            .active_element()
            == screen
    })
    .await;
    assert!(focus_moved, "the focus follows the new screen");
}

#[wasm_bindgen_test]
async fn completion_is_announced_on_the_shadow_host() {
    let host_element = container();
    let shadow = host_element
        .attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))
        .unwrap();
    let document = web_sys::window().unwrap().document().unwrap();
    let inner: HtmlElement = document.create_element("div").unwrap().unchecked_into();
    shadow.append_child(&inner).unwrap();

    let seen = std::rc::Rc::new(std::cell::RefCell::new(None));
    let record = seen.clone();
    // Listening on the document proves the event bubbles out of the shadow root; cancelling
    // it keeps the test page from navigating away.
    let listener =
        Closure::<dyn Fn(web_sys::CustomEvent)>::new(move |event: web_sys::CustomEvent| {
            event.prevent_default();
            let get = |key: &str| {
                js_sys::Reflect::get(&event.detail(), &key.into())
                    .unwrap()
                    .as_string()
            };
            let target: Option<HtmlElement> = event.target().and_then(|t| t.dyn_into().ok());
            *record.borrow_mut() = Some((get("code"), get("state"), target));
        });
    document
        .add_event_listener_with_callback(host::COMPLETE_EVENT, listener.as_ref().unchecked_ref())
        .unwrap();

    let completion = Completion {
        redirect: "http://localhost:8080/duo-callback?duo_code=C1&state=S1".into(),
        code: "C1".into(),
        state: "S1".into(),
        remember: None,
    };
    host::complete(&inner, &completion);

    document
        .remove_event_listener_with_callback(
            host::COMPLETE_EVENT,
            listener.as_ref().unchecked_ref(),
        )
        .unwrap();
    let seen = seen
        .borrow_mut()
        .take()
        .expect("the event reached the document");
    assert_eq!(
        seen,
        (Some("C1".into()), Some("S1".into()), Some(host_element))
    );
}

#[wasm_bindgen_test]
async fn mounting_without_configuration_explains_itself() {
    let root = container();
    tessera_prompt::mount(root.clone(), JsValue::NULL);
    settle().await;
    assert_eq!(text(&root, "[role=alert]"), strings::MISCONFIGURED);
}

#[wasm_bindgen_test]
async fn an_unreachable_edge_is_a_network_error() {
    let root = container();
    let config = js_sys::Object::new();
    for (key, value) in [
        ("edge", "http://127.0.0.1:9"),
        ("clientId", "DIXXXXXXXXXXXXXXXXXX"),
        ("request", "header.payload.signature"),
    ] {
        js_sys::Reflect::set(&config, &key.into(), &value.into()).unwrap();
    }
    tessera_prompt::mount(root.clone(), config.into());
    settle().await;
    assert_eq!(text(&root, "[role=status]"), strings::LOADING);
    let failed = wait_for(5000, || find(&root, "[role=alert]").is_some()).await;
    assert!(failed, "the failure is shown");
    assert_eq!(text(&root, "[role=alert]"), strings::NETWORK_ERROR);
}
