//! The prompt's Leptos components.
//!
//! [`Prompt`] wires the outside world (the edge, the host page) to one [`Flow`] signal;
//! [`PromptView`] renders a flow and reports what the user does, so tests can drive it
//! without a network.

mod header;
mod options;
mod passcode;
mod status;

use leptos::prelude::*;
use leptos::task::spawn_local;
use tessera_shared::v1::Method;
use web_sys::HtmlElement;

use crate::config::Config;
use crate::flow::{Event, Flow, Screen, normalize_passcode};
use crate::{api, host, strings};

pub use header::Header;
pub use options::OtherOptions;
pub use passcode::PasscodeForm;
pub use status::{Alert, Status};

/// The whole prompt: starts it on the edge, submits passcodes, tells the page when done.
#[component]
pub fn Prompt(
    /// What the page passed; `None` when it was incomplete.
    config: Option<Config>,
    /// The element the prompt is mounted in (inside embed.js's shadow root).
    target: HtmlElement,
) -> impl IntoView {
    let flow = RwSignal::new(match config {
        Some(_) => Flow::Loading,
        None => Flow::Fatal {
            started: None,
            message: strings::MISCONFIGURED.to_owned(),
        },
    });
    let target = StoredValue::new_local(target);

    if let Some(config) = config.clone() {
        spawn_local(async move {
            let result = api::start(&config).await;
            send(flow, Event::Started(result.map(std::sync::Arc::new)));
        });
    }

    let on_submit = Callback::new(move |typed: String| {
        if flow.with_untracked(Flow::is_busy) {
            return;
        }
        send(flow, Event::Submit);
        let session = flow.with_untracked(|flow| flow.session().map(str::to_owned));
        let (Some(session), Some(config)) = (session, config.clone()) else {
            return;
        };
        spawn_local(async move {
            let result = api::passcode(&config, session, normalize_passcode(&typed)).await;
            let completion = result.as_ref().ok().cloned();
            send(flow, Event::Verified(result));
            if let Some(completion) = completion {
                target.with_value(|target| host::complete(target, &completion));
            }
        });
    });
    let on_choose = Callback::new(move |method: Method| send(flow, Event::Choose(method)));

    view! { <PromptView flow on_submit on_choose /> }
}

/// Applies `event` to the flow.
fn send(flow: RwSignal<Flow>, event: Event) {
    flow.update(|state| *state = std::mem::replace(state, Flow::Loading).next(event));
}

/// Renders `flow`: the header, the current screen and the other options.
#[component]
pub fn PromptView(
    /// The state to show.
    #[prop(into)]
    flow: Signal<Flow>,
    /// Called with what the user typed when they submit the passcode form.
    on_submit: Callback<String>,
    /// Called when the user picks another method.
    on_choose: Callback<Method>,
) -> impl IntoView {
    let screen = Memo::new(move |_| flow.with(Flow::screen));
    let started = Memo::new(move |_| flow.with(|flow| flow.started().cloned()));
    let error = Memo::new(move |_| flow.with(|flow| flow.error().map(str::to_owned)));
    let busy = Memo::new(move |_| flow.with(Flow::is_busy));
    let others = Memo::new(move |_| flow.with(Flow::other_options));

    // The chosen option's button disappears with the list it was in: move the focus to
    // the new screen, so keyboard and screen-reader users land on it.
    let screen_ref = NodeRef::<leptos::html::Div>::new();
    let on_choose = Callback::new(move |method: Method| {
        on_choose.run(method);
        // After the update has been rendered.
        request_animation_frame(move || {
            if let Some(screen) = screen_ref.get_untracked() {
                let _ = screen.focus();
            }
        });
    });

    let body = move || match screen.get() {
        Screen::Loading => view! { <Status text=strings::LOADING /> }.into_any(),
        Screen::Passcode { attempt } => view! {
            <PasscodeForm refocus=attempt.gt(&0) busy error on_submit />
        }
        .into_any(),
        Screen::Unavailable(_) => view! { <Status text=strings::NOT_AVAILABLE /> }.into_any(),
        Screen::Done => view! { <Status text=strings::DONE /> }.into_any(),
        Screen::Fatal => view! { <Alert message=error /> }.into_any(),
    };

    view! {
        <section
            class="tessera"
            lang="en"
            aria-label=strings::REGION_LABEL
            aria-busy=move || busy.get().to_string()
        >
            <Header started />
            <div class="screen" tabindex="-1" node_ref=screen_ref>
                {body}
            </div>
            <OtherOptions options=others on_choose />
        </section>
    }
}
