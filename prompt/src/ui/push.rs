//! The Push and Verified Push screen, one view per [`PushStep`].
//!
//! DOM hooks for end-to-end tests: `[data-testid=push-screen]` (with `data-phase`),
//! `#tessera-verification-code`, `#tessera-countdown`, `#tessera-resend`,
//! `#tessera-feedback-yes` / `#tessera-feedback-no`.

use std::time::Duration;

use leptos::prelude::*;
use tessera_shared::v1::{Method, PushStarted};

use super::{Alert, texts};
use crate::flow::{Event, ProblemKind, PushStep};
use crate::host;
use crate::strings::{self, fill};

/// The push screen for `step`.
#[component]
pub fn PushScreen(
    /// [`Method::VerifiedPush`] or [`Method::Push`].
    method: Method,
    /// Where the push stands.
    step: PushStep,
    /// Called with what the user does.
    on_event: Callback<Event>,
) -> impl IntoView {
    let texts = texts();
    let resend = move || {
        view! {
            <button
                type="button"
                class="secondary"
                id="tessera-resend"
                data-testid="push-resend"
                on:click=move |_| on_event.run(Event::Resend)
            >
                {texts.send_another_push}
            </button>
        }
    };
    let (phase, body) = match step {
        PushStep::Sending { .. } => (
            "sending",
            view! { <p class="status" role="status" id="tessera-push-status">{texts.push_sending}</p> }
                .into_any(),
        ),
        PushStep::Waiting { push, .. } => (
            "waiting",
            view! { <Waiting method push=(*push).clone() />{resend()} }.into_any(),
        ),
        PushStep::Denied { .. } => ("denied", view! { <DeniedQuestion on_event /> }.into_any()),
        PushStep::Answering { .. } => (
            "answering",
            view! { <p class="status" role="status">{texts.reporting}</p> }.into_any(),
        ),
        PushStep::Answered {
            was_me, problem, ..
        } => {
            let said = if was_me {
                texts.thanks_try_again
            } else {
                texts.reported
            };
            let error = problem.map(|p| texts.problem(&p, Some(method)));
            (
                "answered",
                view! {
                    <p class="status" role="status">{said}</p>
                    <Alert message=Signal::stored(error) />
                    {was_me.then(resend)}
                }
                .into_any(),
            )
        }
        PushStep::Failed {
            problem,
            can_resend,
            ..
        } => {
            let heading = (problem.kind() == ProblemKind::Timeout)
                .then(|| view! { <h3 class="problem-title">{texts.heading_timeout}</h3> });
            let message = texts.problem(&problem, Some(method));
            (
                "failed",
                view! {
                    {heading}
                    <p class="alert" role="alert" id="tessera-push-problem">{message}</p>
                    {can_resend.then(resend)}
                }
                .into_any(),
            )
        }
    };
    view! {
        <div class="push" data-testid="push-screen" data-phase=phase data-method=method.as_str()>
            {body}
        </div>
    }
}

/// The request is on the device: where it went, the code to type (Verified Push), the
/// countdown.
#[component]
fn Waiting(
    /// The push's method, for the instructions.
    method: Method,
    /// What `/prompt/v1/push` answered.
    push: PushStarted,
) -> impl IntoView {
    let texts = texts();
    let sent = match &push.device_name {
        Some(device) => fill(texts.push_sent_to, "device", device),
        None => texts.push_sent.to_owned(),
    };
    let code = push
        .verification_code
        .filter(|_| method == Method::VerifiedPush)
        .map(|code| {
            view! {
                <p class="hint" id="tessera-verification-label">{texts.verification_code_label}</p>
                <p
                    class="verification-code"
                    id="tessera-verification-code"
                    data-testid="verification-code"
                    dir="ltr"
                >
                    {code}
                </p>
            }
            .into_any()
        })
        .unwrap_or_else(|| view! { <p class="hint">{texts.push_approve_hint}</p> }.into_any());
    view! {
        <p class="status" role="status" id="tessera-push-status">{sent}</p>
        {code}
        <Countdown expires_at=push.expires_at />
    }
}

/// Seconds left before a push expires, shown each second and announced (politely) only
/// at 30 and 10 seconds, so screen-reader users know without being talked over. "Send
/// another push" beside it extends the time: no timing trap.
#[component]
pub fn Countdown(
    /// Unix seconds when the push stops being answerable.
    expires_at: i64,
) -> impl IntoView {
    let texts = texts();
    let now = RwSignal::new(host::now());
    let total = (expires_at - now.get_untracked()).max(1);
    if let Ok(handle) =
        set_interval_with_handle(move || now.set(host::now()), Duration::from_secs(1))
    {
        on_cleanup(move || handle.clear());
    }
    let left = move || (expires_at - now.get()).clamp(0, total);
    let threshold = Memo::new(move |_| match left() {
        0..=10 => Some(10),
        11..=30 => Some(30),
        _ => None,
    });
    let announcement = move || {
        threshold.get().map(|_| {
            fill(
                texts.time_running_out,
                "n",
                &left_untracked(expires_at, now),
            )
        })
    };
    view! {
        <div class="countdown">
            <p id="tessera-countdown" data-testid="push-countdown" role="timer" aria-live="off">
                {move || fill(texts.time_left, "time", &strings::clock(left()))}
            </p>
            <progress
                max=total.to_string()
                value=move || left().to_string()
                aria-labelledby="tessera-countdown"
            ></progress>
            <p class="visually-hidden" aria-live="polite">{announcement}</p>
        </div>
    }
}

fn left_untracked(expires_at: i64, now: RwSignal<i64>) -> String {
    (expires_at - now.get_untracked()).max(0).to_string()
}

/// After a denied push: "Was this request from you?" Yes / No, report it.
#[component]
fn DeniedQuestion(
    /// Called with [`Event::Feedback`].
    on_event: Callback<Event>,
) -> impl IntoView {
    let texts = texts();
    view! {
        <p class="alert" role="alert">{texts.push_denied}</p>
        <div class="question" role="group" aria-labelledby="tessera-was-it-you">
            <h3 id="tessera-was-it-you">{texts.was_it_you}</h3>
            <div class="actions">
                <button
                    type="button"
                    class="secondary"
                    id="tessera-feedback-yes"
                    on:click=move |_| on_event.run(Event::Feedback(true))
                >
                    {texts.yes_it_was_me}
                </button>
                <button
                    type="button"
                    class="danger"
                    id="tessera-feedback-no"
                    on:click=move |_| on_event.run(Event::Feedback(false))
                >
                    {texts.no_report_it}
                </button>
            </div>
        </div>
    }
}
