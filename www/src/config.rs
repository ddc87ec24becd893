//! The demo's configuration file (`www.json`, written by `cargo xtask demo`).

use std::fmt;
use std::path::Path;

use serde::Deserialize;
use tessera_shared::SecretString;
use thiserror::Error;

/// Where the demo listens, where the edge is, its application credentials and its users.
#[derive(Clone, Deserialize)]
pub struct Config {
    /// `ip:port` to bind.
    pub listen: String,
    /// The browser-facing base URL of this app; the Duo `redirect_uri` is derived from it.
    pub public_url: String,
    /// Where the backend posts `/oauth/v1/token` and the browser loads the prompt.
    pub edge_url: String,
    /// The Duo-style API host (`host[:port]`, no scheme) that tokens name in `aud`/`iss`.
    pub api_host: String,
    pub client_id: String,
    pub client_secret: SecretString,
    pub app_name: String,
    pub users: Vec<DemoUser>,
}

/// A first-factor account of the demo.
#[derive(Clone, Deserialize)]
pub struct DemoUser {
    pub username: String,
    pub password: SecretString,
}

/// Why the configuration was refused.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a valid tessera-www configuration: {detail}")]
    Invalid { path: String, detail: String },
}

impl Config {
    /// Reads and checks the configuration at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: shown.clone(),
            source,
        })?;
        Self::from_json(&text).map_err(|detail| ConfigError::Invalid {
            path: shown,
            detail,
        })
    }

    /// Parses and checks a configuration document; URLs lose any trailing `/`.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let mut config: Self = serde_json::from_str(text).map_err(|e| e.to_string())?;
        for (name, url) in [
            ("public_url", &mut config.public_url),
            ("edge_url", &mut config.edge_url),
        ] {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(format!("`{name}` must start with http:// or https://"));
            }
            let trimmed = url.trim_end_matches('/').len();
            url.truncate(trimmed);
        }
        if config.api_host.is_empty() || config.api_host.contains('/') {
            return Err("`api_host` must be a host[:port] without scheme or path".to_owned());
        }
        if config.client_id.is_empty() || config.client_secret.expose_secret().is_empty() {
            return Err("`client_id` and `client_secret` must not be empty".to_owned());
        }
        Ok(config)
    }

    /// The `redirect_uri` the edge sends the browser back to.
    pub fn redirect_uri(&self) -> String {
        format!("{}/duo-callback", self.public_url)
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("edge_url", &self.edge_url)
            .field("api_host", &self.api_host)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("app_name", &self.app_name)
            .field("users", &self.users)
            .finish()
    }
}

impl fmt::Debug for DemoUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DemoUser")
            .field("username", &self.username)
            .field("password", &self.password)
            .finish()
    }
}
