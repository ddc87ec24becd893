//! Where the device state file lives. The lookup is a pure function of the environment so
//! tests can drive it with tables instead of mutating the process environment.

use std::ffi::OsString;
use std::path::PathBuf;

/// Overrides every other location when set and non-empty.
pub const STATE_ENV: &str = "TESSERA_DEVICE_STATE";

/// The state file path: `$TESSERA_DEVICE_STATE`, else `$XDG_CONFIG_HOME/tessera/device.json`,
/// else `$HOME/.config/tessera/device.json`. Empty variables count as unset and a relative
/// `XDG_CONFIG_HOME` is ignored, as the XDG base directory specification asks. `None` when
/// none of them is usable.
pub fn resolve_state_path(var: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let set = |name: &str| var(name).filter(|value| !value.is_empty());
    if let Some(explicit) = set(STATE_ENV) {
        return Some(PathBuf::from(explicit));
    }
    if let Some(config) = set("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|path| path.is_absolute())
    {
        return Some(config.join("tessera").join("device.json"));
    }
    set("HOME").map(|home| {
        PathBuf::from(home)
            .join(".config")
            .join("tessera")
            .join("device.json")
    })
}

/// [`resolve_state_path`] over the process environment.
pub fn state_path_from_env() -> Option<PathBuf> {
    resolve_state_path(|name| std::env::var_os(name))
}
