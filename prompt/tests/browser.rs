//! The prompt's components in a real browser (headless Chromium through
//! wasm-bindgen-test-runner): the state machine drives the rendered DOM, every screen is
//! checked, and what the user does comes back as events and commands.
//!
//! Run: `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//! cargo test -p tessera-prompt --target wasm32-unknown-unknown` (chromedriver on `PATH`,
//! options in `prompt/webdriver.json`), or `cargo xtask test`.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;

use leptos::prelude::*;
use tessera_prompt::flow::{Command, Event, Flow, PasscodeStep, Problem, PushStep};
use tessera_prompt::strings::Lang;
use tessera_prompt::{host, ui::PromptView};
use tessera_shared::v1::{
    Application, Completion, ErrorCode, ErrorInfo, Method, MethodOption, PushStarted, PushState,
    PushStatus, RememberOffer, StartResponse,
};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

fn en() -> &'static tessera_prompt::strings::Messages {
    Lang::En.messages()
}

fn started(methods: &[Method]) -> Arc<StartResponse> {
    Arc::new(StartResponse {
        session: "S1".into(),
        application: Application {
            name: "Tessera Demo".into(),
            logo_url: Some("https://rp.example/logo.png".into()),
            accent_color: Some("#ffd700".into()),
            help_url: Some("https://rp.example/help".into()),
            manage_devices_url: Some("javascript:alert(1)".into()),
        },
        username: "alice".into(),
        methods: methods
            .iter()
            .map(|&method| MethodOption {
                method,
                device_name: matches!(method, Method::Push | Method::VerifiedPush)
                    .then(|| "Alice's phone".into()),
                device_id: None,
            })
            .collect(),
        default_method: methods.first().copied(),
        completion: None,
        expires_at: 0,
    })
}

fn passcode_screen(problem: Option<Problem>, attempt: u32) -> Flow {
    Flow::Passcode {
        started: started(&[Method::Passcode, Method::Push]),
        method: Method::Passcode,
        step: PasscodeStep::Ready { problem, attempt },
    }
}

fn push_waiting(code: Option<&str>, seconds_left: i64) -> Flow {
    Flow::Push {
        started: started(&[Method::VerifiedPush, Method::Passcode]),
        method: Method::VerifiedPush,
        step: PushStep::Waiting {
            push: Arc::new(PushStarted {
                txid: "T1".into(),
                verification_code: code.map(str::to_owned),
                expires_at: host::now() + seconds_left,
                device_name: Some("Alice's phone".into()),
            }),
            attempt: 0,
        },
    }
}

fn refused(code: ErrorCode, message: &str, attempts_left: Option<u32>) -> Problem {
    Problem::Refused(ErrorInfo {
        code,
        message: message.into(),
        attempts_left,
    })
}

/// A fresh element in the document body.
fn container() -> HtmlElement {
    let document = web_sys::window().unwrap().document().unwrap();
    let element: HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&element).unwrap();
    element
}

/// A mounted [`PromptView`] whose events go through the real state machine; the
/// commands it would carry out are recorded instead.
struct Mounted {
    root: HtmlElement,
    flow: RwSignal<Flow>,
    events: RwSignal<Vec<Event>>,
    commands: RwSignal<Vec<Command>>,
}

fn mount_view(flow: Flow, lang: Lang) -> Mounted {
    let root = container();
    let flow = RwSignal::new(flow);
    let events = RwSignal::new(Vec::new());
    let commands = RwSignal::new(Vec::new());
    let on_event = Callback::new(move |event: Event| {
        events.update(|all| all.push(event.clone()));
        flow.update(|state| {
            let (next, todo) = std::mem::replace(state, Flow::Loading).next(event);
            *state = next;
            commands.update(|all| all.extend(todo));
        });
    });
    leptos::mount::mount_to(root.clone(), move || {
        view! { <PromptView flow lang on_event target=None /> }
    })
    .forget();
    Mounted {
        root,
        flow,
        events,
        commands,
    }
}

impl Mounted {
    /// Applies an event from outside (the edge's answer), as the controller does.
    fn send(&self, event: Event) {
        let commands = self.commands;
        self.flow.update(|state| {
            let (next, todo) = std::mem::replace(state, Flow::Loading).next(event);
            *state = next;
            commands.update(|all| all.extend(todo));
        });
    }

    fn click(&self, selector: &str) {
        let element: HtmlElement = find(&self.root, selector)
            .unwrap_or_else(|| panic!("{selector} is shown"))
            .unchecked_into();
        element.click();
    }
}

/// Lets the reactive system and the DOM catch up.
async fn settle() {
    for _ in 0..3 {
        leptos::task::tick().await;
    }
}

async fn sleep(millis: i32) {
    let sleep = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, millis)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(sleep).await.unwrap();
}

/// Waits up to `millis` for `ready`, polling every 50 ms.
async fn wait_for(millis: u32, ready: impl Fn() -> bool) -> bool {
    for _ in 0..millis / 50 {
        if ready() {
            return true;
        }
        sleep(50).await;
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

fn active_element() -> Option<Element> {
    web_sys::window()
        .unwrap()
        .document()
        .unwrap()
        .active_element()
}

#[wasm_bindgen_test]
async fn passcode_screen_is_labelled_and_branded() {
    let view = mount_view(passcode_screen(None, 0), Lang::En);
    settle().await;
    let root = &view.root;

    assert_eq!(text(root, "h2"), "Tessera Demo");
    assert_eq!(text(root, ".user"), "Signed in as alice");
    let logo = find(root, "img.logo").expect("a web logo is shown");
    assert_eq!(
        logo.get_attribute("alt").as_deref(),
        Some(""),
        "decorative: the name is beside it"
    );
    let input = find(root, "input").expect("an input");
    for (name, value) in [
        ("name", "passcode"),
        ("inputmode", "numeric"),
        ("autocomplete", "one-time-code"),
        ("maxlength", "8"),
    ] {
        assert_eq!(input.get_attribute(name).as_deref(), Some(value), "{name}");
    }
    let label = find(root, "label").expect("a label");
    assert_eq!(label.text_content().as_deref(), Some(en().passcode_label));
    assert_eq!(label.get_attribute("for"), Some(input.id()));
    assert_eq!(text(root, "form button[type=submit]"), en().verify);
    assert!(find(root, "[role=alert]").is_none(), "no error yet");
    assert_eq!(
        text(root, ".options button"),
        "Send a push notificationAlice's phone"
    );
    // The help link is offered; a non-web "manage devices" link is not.
    assert_eq!(text(root, "#tessera-help"), en().need_help);
    assert!(find(root, "#tessera-manage-devices").is_none());
    // The accent is checked and gets a contrasting text colour.
    let section: HtmlElement = find(root, "section.tessera").unwrap().unchecked_into();
    let style = section.style();
    assert_eq!(style.get_property_value("--brand").unwrap(), "#ffd700");
    assert_eq!(style.get_property_value("--on-brand").unwrap(), "#000000");
    assert_eq!(section.get_attribute("lang").as_deref(), Some("en"));
    assert_eq!(section.get_attribute("dir").as_deref(), Some("ltr"));
}

#[wasm_bindgen_test]
async fn submitting_reports_what_was_typed_once() {
    let view = mount_view(passcode_screen(None, 0), Lang::En);
    settle().await;

    let input: HtmlInputElement = find(&view.root, "input").unwrap().unchecked_into();
    input.set_value("123 456");
    input
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    view.click("button[type=submit]");
    settle().await;
    assert_eq!(
        view.commands.get_untracked(),
        [Command::SubmitPasscode {
            session: "S1".into(),
            passcode: "123456".into()
        }]
    );
    // While the passcode is on its way, the form stays as typed and ignores more submits.
    let input: HtmlInputElement = find(&view.root, "input").unwrap().unchecked_into();
    assert_eq!(input.value(), "123 456");
    view.click("button[type=submit]");
    settle().await;
    assert_eq!(view.commands.get_untracked().len(), 1);
    assert_eq!(text(&view.root, ".progress"), en().verifying);
    assert_eq!(
        find(&view.root, "section")
            .unwrap()
            .get_attribute("aria-busy")
            .as_deref(),
        Some("true")
    );
}

#[wasm_bindgen_test]
async fn a_wrong_passcode_shows_the_translated_alert_and_a_fresh_focused_input() {
    let view = mount_view(passcode_screen(None, 0), Lang::Fr);
    settle().await;
    let input: HtmlInputElement = find(&view.root, "input").unwrap().unchecked_into();
    input.set_value("000000");

    view.flow.set(passcode_screen(
        Some(refused(
            ErrorCode::InvalidPasscode,
            "Incorrect passcode. 9 attempts left.",
            Some(9),
        )),
        1,
    ));
    settle().await;

    assert_eq!(
        text(&view.root, "[role=alert]"),
        "Code d'accès incorrect. Tentatives restantes : 9."
    );
    let input: HtmlInputElement = find(&view.root, "input").unwrap().unchecked_into();
    assert_eq!(input.value(), "", "the input is cleared");
    assert_eq!(input.get_attribute("aria-invalid").as_deref(), Some("true"));
    let described_by = input.get_attribute("aria-describedby").unwrap_or_default();
    let alert_id = find(&view.root, "[role=alert]").unwrap().id();
    assert!(described_by.contains(&alert_id), "{described_by}");
    assert_eq!(active_element(), Some(input.unchecked_into()));
}

#[wasm_bindgen_test]
async fn a_bypass_code_has_its_own_form() {
    let flow = Flow::Passcode {
        started: started(&[Method::Passcode, Method::BypassCode]),
        method: Method::BypassCode,
        step: PasscodeStep::Ready {
            problem: Some(refused(
                ErrorCode::BadRequest,
                "Enter the 6-digit passcode.",
                None,
            )),
            attempt: 1,
        },
    };
    let view = mount_view(flow, Lang::En);
    settle().await;
    assert_eq!(text(&view.root, "label"), en().bypass_label);
    assert_eq!(text(&view.root, "[role=alert]"), en().bypass_malformed);
    assert_eq!(
        text(&view.root, ".options button"),
        en().method_passcode,
        "only the user's other methods are offered"
    );
}

#[wasm_bindgen_test]
async fn problems_that_end_the_prompt_are_titled_and_translated() {
    for (problem, heading, message) in [
        (
            refused(ErrorCode::LockedOut, "Locked.", None),
            "Konto gesperrt",
            "Ihr Konto ist gesperrt. Wenden Sie sich an den Helpdesk.",
        ),
        (
            refused(
                ErrorCode::LocationDenied,
                "Access denied. Acme SSO does not provide services in your current location.",
                None,
            ),
            "Zugriff verweigert",
            "Zugriff verweigert. Acme SSO bietet an Ihrem aktuellen Standort keine Dienste an.",
        ),
        (
            refused(ErrorCode::EnrollmentRequired, "Enroll.", None),
            "Registrierung erforderlich",
            "Sie müssen ein Gerät registrieren, bevor Sie sich anmelden können. Wenden Sie sich an den Helpdesk.",
        ),
        (
            refused(ErrorCode::NotFound, "An English sentence.", None),
            "Anmeldung nicht abgeschlossen",
            "An English sentence.",
        ),
    ] {
        let view = mount_view(
            Flow::Fatal {
                started: Some(started(&[Method::Passcode])),
                problem,
            },
            Lang::De,
        );
        settle().await;
        assert_eq!(text(&view.root, ".problem-title"), heading);
        assert_eq!(text(&view.root, "[role=alert]"), message);
        assert!(find(&view.root, "input").is_none());
        assert!(
            find(&view.root, ".options").is_none(),
            "nothing left to choose"
        );
    }
}

#[wasm_bindgen_test]
async fn switching_methods_cancels_the_pending_push_and_moves_the_focus() {
    let view = mount_view(push_waiting(Some("417"), 60), Lang::En);
    settle().await;
    view.click(".options button[data-method=passcode]");
    settle().await;

    assert!(find(&view.root, "input").is_some(), "the passcode form");
    assert!(find(&view.root, "[data-testid=push-screen]").is_none());
    assert_eq!(
        view.commands.get_untracked(),
        [Command::Cancel {
            session: "S1".into(),
            txid: "T1".into()
        }]
    );
    assert_eq!(
        text(&view.root, ".options button"),
        "Approve with a code in the appAlice's phone"
    );
    let screen = find(&view.root, ".screen");
    let focus_moved = wait_for(1000, || active_element() == screen).await;
    assert!(focus_moved, "the focus follows the new screen");
}

#[wasm_bindgen_test]
async fn verified_push_shows_the_code_and_a_countdown() {
    let view = mount_view(push_waiting(Some("417"), 45), Lang::En);
    settle().await;
    let root = &view.root;
    assert_eq!(text(root, "#tessera-verification-code"), "417");
    assert_eq!(
        text(root, "#tessera-push-status"),
        "Pushed a login request to Alice's phone."
    );
    let countdown = text(root, "#tessera-countdown");
    assert!(
        countdown == "Time left: 0:45" || countdown == "Time left: 0:44",
        "{countdown}"
    );
    assert_eq!(
        find(root, "#tessera-countdown")
            .unwrap()
            .get_attribute("role")
            .as_deref(),
        Some("timer")
    );
    // It counts down by itself.
    sleep(1100).await;
    let later = text(root, "#tessera-countdown");
    assert_ne!(later, countdown, "the countdown moves");
    assert!(find(root, "progress").is_some());
    // Far from the end, nothing is announced; near it, the live region speaks.
    assert_eq!(text(root, ".countdown [aria-live=polite]"), "");

    view.click("#tessera-resend");
    settle().await;
    assert_eq!(
        view.commands.get_untracked(),
        [
            Command::Cancel {
                session: "S1".into(),
                txid: "T1".into()
            },
            Command::SendPush {
                session: "S1".into(),
                method: Method::VerifiedPush,
                device_id: None,
                attempt: 1
            },
        ]
    );
    assert_eq!(text(root, "#tessera-push-status"), en().push_sending);
}

#[wasm_bindgen_test]
async fn the_countdown_announces_the_end_and_plain_push_has_no_code() {
    let mut flow = push_waiting(Some("417"), 25);
    if let Flow::Push { method, .. } = &mut flow {
        *method = Method::Push;
    }
    let view = mount_view(flow, Lang::En);
    settle().await;
    assert!(find(&view.root, "#tessera-verification-code").is_none());
    assert_eq!(text(&view.root, ".push .hint"), en().push_approve_hint);
    let announced = text(&view.root, ".countdown [aria-live=polite]");
    assert!(
        announced.ends_with("seconds left. Send another push if you need more time."),
        "{announced}"
    );
}

fn answer(view: &Mounted, state: PushState, completion: Option<Completion>) {
    view.send(Event::PushStatus {
        txid: "T1".into(),
        result: Ok(PushStatus {
            state,
            completion,
            error: None,
        }),
    });
}

fn completion(remember: bool) -> Completion {
    Completion {
        redirect: "http://localhost:8080/duo-callback?duo_code=C&state=T".into(),
        code: "C".into(),
        state: "T".into(),
        remember: remember.then(|| RememberOffer {
            token: "R1".into(),
            expires_at: host::now() + 86_400,
            scope: "application".into(),
        }),
    }
}

#[wasm_bindgen_test]
async fn push_outcomes() {
    // Approved: success, and the page is told.
    let view = mount_view(push_waiting(Some("417"), 60), Lang::En);
    answer(&view, PushState::Approved, Some(completion(false)));
    settle().await;
    assert_eq!(text(&view.root, "[data-testid=success]"), en().success);
    assert_eq!(
        view.commands.get_untracked(),
        [
            Command::SaveMethod(Method::VerifiedPush),
            Command::Complete(completion(false))
        ]
    );

    // Expired: the timeout, announced, with "Send another push".
    let view = mount_view(push_waiting(Some("417"), 60), Lang::En);
    answer(&view, PushState::Expired, None);
    settle().await;
    assert_eq!(text(&view.root, ".problem-title"), en().heading_timeout);
    assert_eq!(text(&view.root, "[role=alert]"), en().push_expired);
    assert!(find(&view.root, "#tessera-resend").is_some());

    // Wrong code on the device: try again.
    let view = mount_view(push_waiting(Some("417"), 60), Lang::En);
    answer(&view, PushState::WrongCode, None);
    settle().await;
    assert_eq!(text(&view.root, "[role=alert]"), en().push_wrong_code);
    assert!(find(&view.root, "#tessera-resend").is_some());

    // Fraud reported on the device: no new push, other options stay.
    let view = mount_view(push_waiting(Some("417"), 60), Lang::En);
    answer(&view, PushState::Fraud, None);
    settle().await;
    assert_eq!(text(&view.root, "[role=alert]"), en().push_fraud);
    assert!(find(&view.root, "#tessera-resend").is_none());
    assert!(find(&view.root, ".options button").is_some());
}

#[wasm_bindgen_test]
async fn a_denied_push_asks_whether_it_was_you() {
    let view = mount_view(push_waiting(Some("417"), 60), Lang::En);
    answer(&view, PushState::Denied, None);
    settle().await;
    assert_eq!(text(&view.root, "[role=alert]"), en().push_denied);
    assert_eq!(text(&view.root, "#tessera-was-it-you"), en().was_it_you);
    view.click("#tessera-feedback-no");
    settle().await;
    assert_eq!(
        view.commands.get_untracked(),
        [Command::Feedback {
            session: "S1".into(),
            txid: "T1".into(),
            was_me: false
        }]
    );
    view.send(Event::FeedbackSent(Ok(())));
    settle().await;
    assert_eq!(text(&view.root, ".push [role=status]"), en().reported);
    assert!(
        find(&view.root, "#tessera-resend").is_none(),
        "no new push after a report"
    );

    let view = mount_view(push_waiting(Some("417"), 60), Lang::En);
    answer(&view, PushState::Denied, None);
    settle().await;
    view.click("#tessera-feedback-yes");
    view.send(Event::FeedbackSent(Ok(())));
    settle().await;
    assert_eq!(
        text(&view.root, ".push [role=status]"),
        en().thanks_try_again
    );
    assert!(find(&view.root, "#tessera-resend").is_some());
}

#[wasm_bindgen_test]
async fn is_this_your_device() {
    for (button, kept) in [
        ("#tessera-remember-yes", true),
        ("#tessera-remember-no", false),
    ] {
        let view = mount_view(passcode_screen(None, 0), Lang::En);
        view.send(Event::Submit("123456".into()));
        view.send(Event::Verified(Ok(completion(true))));
        settle().await;
        assert_eq!(
            text(&view.root, "#tessera-remember"),
            en().remember_question
        );
        view.commands.set(Vec::new());
        view.click(button);
        settle().await;
        let commands = view.commands.get_untracked();
        assert_eq!(
            commands.iter().any(|c| matches!(c, Command::KeepDevice(_))),
            kept,
            "{button}"
        );
        assert_eq!(commands.last(), Some(&Command::Complete(completion(true))));
        assert_eq!(text(&view.root, "[data-testid=success]"), en().success);
    }
    // The browser keeps accepted tokens and the last method for the next start.
    host::keep_device(&completion(true).remember.unwrap());
    assert_eq!(host::remembered().first().map(String::as_str), Some("R1"));
    host::save_method(Method::BypassCode);
    assert_eq!(host::last_method(), Some(Method::BypassCode));
}

#[wasm_bindgen_test]
async fn arabic_is_right_to_left_and_japanese_is_japanese() {
    let view = mount_view(push_waiting(Some("417"), 60), Lang::Ar);
    settle().await;
    let section = find(&view.root, "section").unwrap();
    assert_eq!(section.get_attribute("dir").as_deref(), Some("rtl"));
    assert_eq!(section.get_attribute("lang").as_deref(), Some("ar"));
    assert_eq!(text(&view.root, "#tessera-resend"), "إرسال طلب آخر");
    assert_eq!(text(&view.root, ".options h3"), "خيارات أخرى");
    assert_eq!(
        find(&view.root, "#tessera-verification-code")
            .unwrap()
            .get_attribute("dir")
            .as_deref(),
        Some("ltr"),
        "digits stay in reading order"
    );

    let view = mount_view(passcode_screen(None, 0), Lang::Ja);
    settle().await;
    assert_eq!(text(&view.root, "label"), "パスコード");
    assert_eq!(text(&view.root, ".user"), "alice としてサインイン");
    assert!(view.events.get_untracked().is_empty());
}

#[wasm_bindgen_test]
async fn every_preview_screen_renders_and_cannot_sign_in() {
    for screen in tessera_prompt::preview_data::SCREENS {
        let root = container();
        let options = js_sys::Object::new();
        js_sys::Reflect::set(&options, &"screen".into(), &screen.into()).unwrap();
        js_sys::Reflect::set(&options, &"lang".into(), &"ar".into()).unwrap();
        tessera_prompt::preview(root.clone(), options.into());
        settle().await;
        let section = find(&root, "section.tessera").unwrap_or_else(|| panic!("{screen}"));
        assert_eq!(
            section.get_attribute("dir").as_deref(),
            Some("rtl"),
            "{screen}"
        );
        assert!(find(&root, ".preview-note").is_some(), "{screen}");
    }
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

    host::complete(&inner, &completion(false));

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
        (Some("C".into()), Some("T".into()), Some(host_element))
    );
}

#[wasm_bindgen_test]
async fn mounting_without_configuration_explains_itself() {
    let root = container();
    tessera_prompt::mount(root.clone(), JsValue::NULL);
    settle().await;
    let message = text(&root, "[role=alert]");
    assert!(
        Lang::ALL
            .iter()
            .any(|lang| lang.messages().misconfigured == message),
        "{message}"
    );
}

#[wasm_bindgen_test]
async fn an_unreachable_edge_is_a_network_error() {
    let root = container();
    let config = js_sys::Object::new();
    for (key, value) in [
        ("edge", "http://127.0.0.1:9"),
        ("clientId", "DIXXXXXXXXXXXXXXXXXX"),
        ("request", "header.payload.signature"),
        ("lang", "es"),
    ] {
        js_sys::Reflect::set(&config, &key.into(), &value.into()).unwrap();
    }
    tessera_prompt::mount(root.clone(), config.into());
    settle().await;
    assert_eq!(text(&root, "[role=status]"), Lang::Es.messages().loading);
    let failed = wait_for(5000, || find(&root, "[role=alert]").is_some()).await;
    assert!(failed, "the failure is shown");
    assert_eq!(
        text(&root, "[role=alert]"),
        Lang::Es.messages().network_error
    );
}
