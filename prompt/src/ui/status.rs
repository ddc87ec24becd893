//! One-line messages: progress (`role="status"`) and errors (`role="alert"`).

use leptos::prelude::*;

/// A polite, live progress message.
#[component]
pub fn Status(
    /// The sentence to show.
    text: &'static str,
) -> impl IntoView {
    view! { <p class="status" role="status">{text}</p> }
}

/// An error message, announced when it appears; nothing while `message` is `None`.
#[component]
pub fn Alert(
    /// The sentence to show, in the prompt's language.
    #[prop(into)]
    message: Signal<Option<String>>,
    /// The element id, for `aria-describedby` on the field the error is about.
    #[prop(optional)]
    id: Option<&'static str>,
) -> impl IntoView {
    move || {
        message.get().map(|message| {
            view! { <p class="alert" role="alert" id=id>{message}</p> }
        })
    }
}
