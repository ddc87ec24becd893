//! The typed-code screen: an authenticator passcode, a hardware token code or a bypass
//! code, each with its own label and hint, all sent to `/prompt/v1/passcode`.

use leptos::prelude::*;
use tessera_shared::v1::Method;

use super::{Alert, texts};
use crate::flow::Problem;

const INPUT_ID: &str = "tessera-passcode";
const HINT_ID: &str = "tessera-passcode-hint";
const ERROR_ID: &str = "tessera-passcode-error";

/// One labelled input and a "Verify" button, in a form so that Enter submits.
///
/// The view makes a new form after each failed attempt: the input starts empty and, with
/// `refocus`, takes the focus so the user can type the next code at once.
#[component]
pub fn CodeForm(
    /// Which code: [`Method::Passcode`], [`Method::HardwareToken`] or [`Method::BypassCode`].
    method: Method,
    /// Move the focus to the input when the form appears.
    refocus: bool,
    /// A submission is in flight: further ones are ignored.
    #[prop(into)]
    busy: Signal<bool>,
    /// Why the last attempt failed.
    #[prop(into)]
    problem: Signal<Option<Problem>>,
    /// Called with what the user typed.
    on_submit: Callback<String>,
) -> impl IntoView {
    let texts = texts();
    let (label, hint, max_length) = match method {
        Method::BypassCode => (texts.bypass_label, texts.bypass_hint, "12"),
        Method::HardwareToken => (texts.hardware_token_label, texts.hardware_token_hint, "9"),
        _ => (texts.passcode_label, texts.passcode_hint, "8"),
    };
    let error = Signal::derive(move || {
        problem.with(|problem| problem.as_ref().map(|p| texts.problem(p, Some(method))))
    });
    let value = RwSignal::new(String::new());
    let input = NodeRef::<leptos::html::Input>::new();
    if refocus {
        // Syncing with the DOM: focus exists only there.
        Effect::new(move |_| {
            if let Some(input) = input.get() {
                let _ = input.focus();
            }
        });
    }
    let described_by = move || {
        if error.with(Option::is_some) {
            format!("{HINT_ID} {ERROR_ID}")
        } else {
            HINT_ID.to_owned()
        }
    };
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if !busy.get_untracked() {
            on_submit.run(value.get_untracked());
        }
    };

    view! {
        <form class="passcode" on:submit=submit novalidate data-method=method.as_str()>
            <label for=INPUT_ID>{label}</label>
            <p class="hint" id=HINT_ID>{hint}</p>
            <input
                id=INPUT_ID
                name="passcode"
                type="text"
                inputmode="numeric"
                autocomplete="one-time-code"
                maxlength=max_length
                spellcheck="false"
                dir="ltr"
                aria-describedby=described_by
                aria-invalid=move || error.with(Option::is_some).to_string()
                node_ref=input
                prop:value=move || value.get()
                on:input=move |event| value.set(event_target_value(&event))
            />
            <Alert message=error id=ERROR_ID />
            <p class="progress" role="status">
                {move || busy.get().then_some(texts.verifying)}
            </p>
            <button type="submit" class="primary" aria-disabled=move || busy.get().to_string()>
                {texts.verify}
            </button>
        </form>
    }
}
