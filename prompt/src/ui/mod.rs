//! The prompt's Leptos components.
//!
//! [`Prompt`] wires the outside world (the edge, the page, the browser) to one [`Flow`]
//! signal: every [`Event`] goes through [`Flow::next`] and the returned [`Command`]s are
//! carried out here. [`PromptView`] renders a flow and reports what the user does as
//! events, so tests and [`Preview`] drive it without a network.

mod code;
mod header;
mod options;
mod outcome;
mod push;
mod status;

use leptos::prelude::*;
use leptos::task::spawn_local;
use tessera_shared::v1::{Method, PushState, PushStatus};
use web_sys::HtmlElement;

use crate::config::Config;
use crate::flow::{Command, Event, Flow, PasscodeStep, Problem, PushStep};
use crate::strings::{Lang, Messages};
use crate::{api, brand, host};

pub use code::CodeForm;
pub use header::Header;
pub use options::OtherOptions;
pub use outcome::{ProblemScreen, RememberOffer, Success};
pub use push::{Countdown, PushScreen};
pub use status::{Alert, Status};

/// The catalog of the prompt's language, for every component below [`PromptView`].
#[derive(Debug, Clone, Copy)]
pub struct Texts(pub &'static Messages);

/// The current catalog (English outside a [`PromptView`]).
pub fn texts() -> &'static Messages {
    use_context::<Texts>().map_or(Lang::En.messages(), |texts| texts.0)
}

/// Which screen is on show. The view rebuilds a screen only when this changes (not, say,
/// when a submission starts), and moves the focus to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Loading,
    /// The code form; a new `attempt` means a new, empty, focused form.
    Code {
        method: Method,
        attempt: u32,
    },
    Push {
        method: Method,
        phase: PushPhase,
        attempt: u32,
    },
    Unavailable(Method),
    Remember,
    Done,
    Fatal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushPhase {
    Sending,
    Waiting,
    Denied,
    Answering,
    Answered,
    Failed,
}

impl Screen {
    pub fn of(flow: &Flow) -> Screen {
        match flow {
            Flow::Loading => Screen::Loading,
            Flow::Passcode { method, step, .. } => {
                let attempt = match step {
                    PasscodeStep::Ready { attempt, .. } | PasscodeStep::Submitting { attempt } => {
                        *attempt
                    }
                };
                Screen::Code {
                    method: *method,
                    attempt,
                }
            }
            Flow::Push { method, step, .. } => {
                let (phase, attempt) = match step {
                    PushStep::Sending { attempt } => (PushPhase::Sending, attempt),
                    PushStep::Waiting { attempt, .. } => (PushPhase::Waiting, attempt),
                    PushStep::Denied { attempt, .. } => (PushPhase::Denied, attempt),
                    PushStep::Answering { attempt, .. } => (PushPhase::Answering, attempt),
                    PushStep::Answered { attempt, .. } => (PushPhase::Answered, attempt),
                    PushStep::Failed { attempt, .. } => (PushPhase::Failed, attempt),
                };
                Screen::Push {
                    method: *method,
                    phase,
                    attempt: *attempt,
                }
            }
            Flow::Unavailable { method, .. } => Screen::Unavailable(*method),
            Flow::Remember { .. } => Screen::Remember,
            Flow::Done { .. } => Screen::Done,
            Flow::Fatal { .. } => Screen::Fatal,
        }
    }

    /// Whether the user can act on this screen (the moment `cargo xtask bench` measures).
    fn is_interactive(self) -> bool {
        matches!(self, Screen::Code { .. } | Screen::Push { .. })
    }
}

/// Everything the commands need, all `Copy`.
#[derive(Clone, Copy)]
struct Controller {
    flow: RwSignal<Flow>,
    config: StoredValue<Option<Config>>,
    target: StoredValue<HtmlElement, LocalStorage>,
}

impl Controller {
    /// Applies `event` and carries out what the transition asks for.
    fn dispatch(self, event: Event) {
        let mut commands = Vec::new();
        self.flow.update(|state| {
            let (next, todo) = std::mem::replace(state, Flow::Loading).next(event);
            *state = next;
            commands = todo;
        });
        for command in commands {
            self.run(command);
        }
    }

    fn run(self, command: Command) {
        let Some(config) = self.config.get_value() else {
            return;
        };
        match command {
            Command::SendPush {
                session,
                method,
                device_id,
                attempt,
            } => spawn_local(async move {
                let result = api::push(&config, session, method, device_id).await;
                self.dispatch(Event::PushSent { attempt, result });
            }),
            Command::Poll { session, txid } => self.poll(config, session, txid),
            Command::Cancel { session, txid } => spawn_local(async move {
                // Best effort: a push that cannot be withdrawn expires on its own, and a
                // late answer to it is ignored.
                let _ = api::cancel(&config, session, txid).await;
            }),
            Command::SubmitPasscode { session, passcode } => spawn_local(async move {
                let result = api::passcode(&config, session, passcode).await;
                self.dispatch(Event::Verified(result));
            }),
            Command::Feedback {
                session,
                txid,
                was_me,
            } => spawn_local(async move {
                let result = api::feedback(&config, session, txid, was_me).await;
                self.dispatch(Event::FeedbackSent(result));
            }),
            Command::Complete(completion) => self
                .target
                .with_value(|target| host::complete(target, &completion)),
            Command::SaveMethod(method) => host::save_method(method),
            Command::KeepDevice(offer) => host::keep_device(&offer),
        }
    }

    /// One long poll. The edge answers the moment the push changes; a `pending` that comes
    /// back early (an edge that does not wait) is asked again after a second, never in a
    /// tight loop. A push past its expiry (and a grace for clocks) is expired here.
    fn poll(self, config: Config, session: String, txid: String) {
        let expires_at = self.flow.with_untracked(|flow| match flow {
            Flow::Push {
                step: PushStep::Waiting { push, .. },
                ..
            } => Some(push.expires_at),
            _ => None,
        });
        if expires_at.is_some_and(|at| host::now() > at.saturating_add(EXPIRY_GRACE)) {
            let expired = PushStatus {
                state: PushState::Expired,
                completion: None,
                error: None,
            };
            self.dispatch(Event::PushStatus {
                txid,
                result: Ok(expired),
            });
            return;
        }
        spawn_local(async move {
            let asked = js_sys::Date::now();
            let result = api::push_status(&config, session, txid.clone()).await;
            let early = matches!(&result, Ok(status) if status.state == PushState::Pending)
                && js_sys::Date::now() - asked < 1000.0;
            let event = Event::PushStatus { txid, result };
            if early {
                set_timeout(
                    move || self.dispatch(event),
                    std::time::Duration::from_secs(1),
                );
            } else {
                self.dispatch(event);
            }
        });
    }
}

/// Seconds past a push's `expires_at` before the prompt stops asking the edge about it.
const EXPIRY_GRACE: i64 = 5;

/// The whole prompt: starts it on the edge, runs its commands, tells the page when done.
#[component]
pub fn Prompt(
    /// What the page passed; `None` when it was incomplete.
    config: Option<Config>,
    /// The element the prompt is mounted in (inside embed.js's shadow root).
    target: HtmlElement,
) -> impl IntoView {
    let lang = config
        .as_ref()
        .and_then(|config| config.lang)
        .unwrap_or_else(|| {
            let languages = host::languages();
            Lang::detect(languages.iter().map(String::as_str))
        });
    let flow = RwSignal::new(match config {
        Some(_) => Flow::Loading,
        None => Flow::Fatal {
            started: None,
            problem: Problem::Misconfigured,
        },
    });
    let controller = Controller {
        flow,
        config: StoredValue::new(config.clone()),
        target: StoredValue::new_local(target.clone()),
    };
    if let Some(config) = config {
        spawn_local(async move {
            let result = api::start(&config, host::remembered()).await;
            let last_used = host::last_method();
            controller.dispatch(Event::Started { result, last_used });
        });
    }
    let on_event = Callback::new(move |event| controller.dispatch(event));
    view! { <PromptView flow lang on_event target=Some(target) /> }
}

/// A fixed screen with made-up data ([`crate::preview_data`]). Events move it along the
/// state machine, but no command runs: nothing reaches an edge or the page.
#[component]
pub fn Preview(
    /// A name from [`crate::preview_data::SCREENS`].
    screen: String,
    lang: Lang,
    /// Unix seconds; pushes expire a minute later.
    now: i64,
) -> impl IntoView {
    let flow = RwSignal::new(
        crate::preview_data::flow(&screen, now).unwrap_or(Flow::Fatal {
            started: None,
            problem: Problem::Misconfigured,
        }),
    );
    let on_event = Callback::new(move |event| {
        flow.update(|state| *state = std::mem::replace(state, Flow::Loading).next(event).0);
    });
    view! {
        <PromptView flow lang on_event target=None />
        <p class="preview-note">{lang.messages().preview}</p>
    }
}

/// Renders `flow`: the header, the current screen and the other options.
#[component]
pub fn PromptView(
    /// The state to show.
    #[prop(into)]
    flow: Signal<Flow>,
    /// The language of every sentence.
    lang: Lang,
    /// Called with what the user does.
    on_event: Callback<Event>,
    /// The mount element, to tell whether the focus is the prompt's to move.
    target: Option<HtmlElement>,
) -> impl IntoView {
    let texts = lang.messages();
    provide_context(Texts(texts));
    let screen = Memo::new(move |_| flow.with(Screen::of));
    let started = Memo::new(move |_| flow.with(|flow| flow.started().cloned()));
    let busy = Memo::new(move |_| flow.with(Flow::is_busy));
    let others = Memo::new(move |_| flow.with(Flow::other_options));

    // A new screen replaces the control the user was on: move the focus to it, so keyboard
    // and screen-reader users land there. Only when the focus was ours to move (not on
    // the first screen, and never away from something else on the page).
    let screen_ref = NodeRef::<leptos::html::Div>::new();
    let target = StoredValue::new_local(target);
    Effect::new(move |previous: Option<Screen>| {
        let current = screen.get();
        // A code form after a failed attempt focuses its own input.
        let refocuses_itself = matches!(current, Screen::Code { attempt, .. } if attempt > 0);
        if let Some(previous) = previous
            && previous != current
            && !refocuses_itself
        {
            let ours = target.with_value(|target| target.as_ref().is_none_or(host::focus_is_ours));
            if ours {
                request_animation_frame(move || {
                    if let Some(screen) = screen_ref.get_untracked() {
                        let _ = screen.focus();
                    }
                });
            }
        }
        if current.is_interactive() && previous.is_none_or(|previous| !previous.is_interactive()) {
            host::mark_interactive();
        }
        current
    });

    // The application's accent, checked, as custom properties (CSSOM: no inline style
    // attribute, so a strict CSP on the page does not block it).
    let section = NodeRef::<leptos::html::Section>::new();
    Effect::new(move |_| {
        let accent = started.with(|started| {
            started.as_ref().and_then(|s| {
                s.application
                    .accent_color
                    .as_deref()
                    .and_then(brand::accent)
            })
        });
        if let (Some(section), Some(accent)) = (section.get(), accent) {
            let style = section.style();
            let _ = style.set_property("--brand", &accent.color);
            let _ = style.set_property("--on-brand", accent.on_color);
        }
    });

    let body = move || {
        let current = screen.get();
        let flow_now = flow.get_untracked();
        match current {
            Screen::Loading => view! { <Status text=texts.loading /> }.into_any(),
            Screen::Code { method, attempt } => {
                let problem = Signal::derive(move || {
                    flow.with(|flow| match flow {
                        Flow::Passcode {
                            step: PasscodeStep::Ready { problem, .. },
                            ..
                        } => problem.clone(),
                        _ => None,
                    })
                });
                let on_submit = Callback::new(move |typed| on_event.run(Event::Submit(typed)));
                view! { <CodeForm method refocus=attempt.gt(&0) busy problem on_submit /> }
                    .into_any()
            }
            Screen::Push { .. } => match flow_now {
                Flow::Push { method, step, .. } => {
                    view! { <PushScreen method step on_event /> }.into_any()
                }
                _ => ().into_any(),
            },
            Screen::Unavailable(_) => view! { <Status text=texts.not_available /> }.into_any(),
            Screen::Remember => view! { <RememberOffer on_event /> }.into_any(),
            Screen::Done => view! { <Success /> }.into_any(),
            Screen::Fatal => match flow_now {
                Flow::Fatal { problem, .. } => view! { <ProblemScreen problem /> }.into_any(),
                _ => ().into_any(),
            },
        }
    };
    let on_choose = Callback::new(move |method| on_event.run(Event::Choose(method)));
    let links = Signal::derive(move || {
        started.with(|started| {
            let choosing = !others.with(Vec::is_empty) || flow.with(|flow| flow.method().is_some());
            started
                .as_ref()
                .filter(|_| choosing)
                .map(|started| started.application.clone())
        })
    });

    view! {
        <section
            class="tessera"
            lang=lang.tag()
            dir=lang.dir()
            aria-label=texts.region_label
            aria-busy=move || busy.get().to_string()
            node_ref=section
        >
            <Header started />
            <div class="screen" tabindex="-1" node_ref=screen_ref>
                {body}
            </div>
            <OtherOptions options=others application=links on_choose />
        </section>
    }
}
