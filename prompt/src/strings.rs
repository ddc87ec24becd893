//! Every sentence the prompt shows, in English.
//!
//! Kept in one module so that a message catalog (by browser language) can replace it
//! without touching the components. Server messages (`ErrorBody.error.message`) are shown
//! as sent for now; the catalog will translate them by `ErrorCode`.

use tessera_shared::v1::Method;

/// Names the prompt as a landmark in the host page.
pub const REGION_LABEL: &str = "Two-step verification";
pub const LOADING: &str = "Loading…";
/// Followed by the username.
pub const SIGNED_IN_AS: &str = "Signed in as";
pub const PASSCODE_LABEL: &str = "Passcode";
pub const PASSCODE_HINT: &str = "Enter the code from your authenticator app.";
pub const VERIFY: &str = "Verify";
pub const VERIFYING: &str = "Verifying…";
pub const DONE: &str = "Verified. Continuing…";
pub const NOT_AVAILABLE: &str = "This method is not available yet.";
pub const OTHER_OPTIONS: &str = "Other options";
pub const NETWORK_ERROR: &str =
    "Could not reach the sign-in service. Check your connection and try again.";
pub const UNEXPECTED: &str = "Something went wrong. Try again later.";
pub const NO_METHODS: &str = "No sign-in method is available to you. Contact your help desk.";
pub const MISCONFIGURED: &str =
    "This sign-in prompt is not set up correctly. Contact the site's administrator.";

/// What an option in "Other options" says for `method`.
pub fn method_label(method: Method) -> &'static str {
    match method {
        Method::PlatformAuthenticator => "Use this device's screen lock",
        Method::SecurityKey => "Use a security key",
        Method::VerifiedPush => "Approve with a code in the app",
        Method::Push => "Send a push notification",
        Method::YubikeyOtp => "Touch your YubiKey",
        Method::Passcode => "Enter a passcode",
        Method::HardwareToken => "Enter a hardware token code",
        Method::SmsPasscode => "Text me a passcode",
        Method::PhoneCall => "Call me",
        Method::BypassCode => "Enter a bypass code",
    }
}
