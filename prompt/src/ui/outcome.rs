//! The end of the prompt: success, "Is this your device?", and problems that end it.

use leptos::prelude::*;

use super::texts;
use crate::flow::{Event, Problem, ProblemKind};

/// Verified; the page takes over.
#[component]
pub fn Success() -> impl IntoView {
    let texts = texts();
    view! { <p class="success" role="status" data-testid="success">{texts.success}</p> }
}

/// "Is this your device?" after a success, when policy lets this browser be remembered.
#[component]
pub fn RememberOffer(
    /// Called with [`Event::Remember`].
    on_event: Callback<Event>,
) -> impl IntoView {
    let texts = texts();
    view! {
        <div class="question" role="group" aria-labelledby="tessera-remember" aria-describedby="tessera-remember-hint">
            <h3 id="tessera-remember">{texts.remember_question}</h3>
            <p class="hint" id="tessera-remember-hint">{texts.remember_hint}</p>
            <div class="actions">
                <button
                    type="button"
                    class="primary"
                    id="tessera-remember-yes"
                    on:click=move |_| on_event.run(Event::Remember(true))
                >
                    {texts.remember_yes}
                </button>
                <button
                    type="button"
                    class="secondary"
                    id="tessera-remember-no"
                    on:click=move |_| on_event.run(Event::Remember(false))
                >
                    {texts.remember_no}
                </button>
            </div>
        </div>
    }
}

/// A problem that ends the prompt: a title for its kind (locked, location, …) and the
/// sentence, announced.
#[component]
pub fn ProblemScreen(
    /// What went wrong.
    problem: Problem,
) -> impl IntoView {
    let texts = texts();
    let kind = match problem.kind() {
        ProblemKind::Failed => "failed",
        ProblemKind::Timeout => "timeout",
        ProblemKind::Locked => "locked",
        ProblemKind::Location => "location",
        ProblemKind::Enrollment => "enrollment",
    };
    view! {
        <div class="problem" data-testid="problem" data-kind=kind>
            <h3 class="problem-title">{texts.heading(problem.kind())}</h3>
            <p class="alert" role="alert">{texts.problem(&problem, None)}</p>
        </div>
    }
}
