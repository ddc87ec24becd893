//! Reading what the user was given to activate a device: an activation link
//! (`https://edge/device/v1/activate?realm=R&username=U&code=XXXXX-…`, as
//! `/internal/v1/activation` issues it and a QR code would carry it) or a bare code with
//! the edge, realm and username given separately.

use serde::Deserialize;
use tessera_shared::v1::device::{ActivationCode, DEVICE_ACTIVATE};
use thiserror::Error;

/// Where and what to activate.
#[derive(Debug, Clone)]
pub struct ActivationTarget {
    /// `scheme://host[:port]`.
    pub edge_url: String,
    pub realm: String,
    pub username: String,
    pub code: ActivationCode,
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ActivationInputError {
    #[error(
        "the activation link is not {DEVICE_ACTIVATE}?realm=…&username=…&code=… on an http(s) edge"
    )]
    BadLink,
    #[error("with a bare activation code, give --edge, --realm and --username too")]
    MissingAccount,
    #[error("activation code: {0}")]
    Code(String),
}

#[derive(Deserialize)]
struct LinkQuery {
    realm: String,
    username: String,
    code: String,
}

/// Reads a link or a code; flags fill in (or, for the edge, override) the link's parts.
pub fn parse_activation(
    input: &str,
    edge: Option<&str>,
    realm: Option<&str>,
    username: Option<&str>,
) -> Result<ActivationTarget, ActivationInputError> {
    let input = input.trim();
    if input.starts_with("http://") || input.starts_with("https://") {
        let (without_query, query) = input.split_once('?').ok_or(ActivationInputError::BadLink)?;
        let query = query.split('#').next().unwrap_or_default();
        let origin = without_query
            .strip_suffix(DEVICE_ACTIVATE)
            .filter(|origin| {
                let rest = origin.split_once("://").map(|(_, rest)| rest).unwrap_or("");
                !rest.is_empty() && !rest.contains('/')
            })
            .ok_or(ActivationInputError::BadLink)?;
        let parsed: LinkQuery =
            serde_urlencoded::from_str(query).map_err(|_| ActivationInputError::BadLink)?;
        let code = ActivationCode::parse(&parsed.code)
            .map_err(|e| ActivationInputError::Code(e.to_string()))?;
        return Ok(ActivationTarget {
            edge_url: edge.unwrap_or(origin).trim_end_matches('/').to_owned(),
            realm: realm.map_or(parsed.realm, str::to_owned),
            username: username.map_or(parsed.username, str::to_owned),
            code,
        });
    }
    let (Some(edge), Some(realm), Some(username)) = (edge, realm, username) else {
        return Err(ActivationInputError::MissingAccount);
    };
    if !(edge.starts_with("http://") || edge.starts_with("https://")) {
        return Err(ActivationInputError::BadLink);
    }
    let code =
        ActivationCode::parse(input).map_err(|e| ActivationInputError::Code(e.to_string()))?;
    Ok(ActivationTarget {
        edge_url: edge.trim_end_matches('/').to_owned(),
        realm: realm.to_owned(),
        username: username.to_owned(),
        code,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CODE: &str = "7KQ2M-4XH9D-PWZ3B-R8T6V";

    #[test]
    fn links_carry_edge_realm_user_and_code() {
        let link = format!(
            "https://localhost:8443{DEVICE_ACTIVATE}?realm=demo&username=alice%40corp&code={CODE}"
        );
        let target = parse_activation(&link, None, None, None).unwrap();
        assert_eq!(target.edge_url, "https://localhost:8443");
        assert_eq!(target.realm, "demo");
        assert_eq!(target.username, "alice@corp");
        assert_eq!(target.code.expose_secret(), "7KQ2M4XH9DPWZ3BR8T6V");
        let moved = parse_activation(&link, Some("http://127.0.0.1:1/"), None, None).unwrap();
        assert_eq!(moved.edge_url, "http://127.0.0.1:1");
    }

    #[test]
    fn bare_codes_need_the_account() {
        assert_eq!(
            parse_activation(CODE, None, Some("demo"), Some("alice")).unwrap_err(),
            ActivationInputError::MissingAccount
        );
        let target = parse_activation(CODE, Some("http://e"), Some("demo"), Some("alice")).unwrap();
        assert_eq!(target.edge_url, "http://e");
    }

    #[test]
    fn malformed_links_are_refused() {
        for link in [
            "https://e/device/v1/activate",
            "https://e/other?realm=a&username=b&code=c",
            "https:///device/v1/activate?realm=a&username=b&code=7KQ2M4XH9DPWZ3BR8T6V",
            "https://e/device/v1/activate?realm=a&code=7KQ2M4XH9DPWZ3BR8T6V",
        ] {
            assert_eq!(
                parse_activation(link, None, None, None).unwrap_err(),
                ActivationInputError::BadLink,
                "{link}"
            );
        }
        assert!(matches!(
            parse_activation(
                "https://e/device/v1/activate?realm=a&username=b&code=short",
                None,
                None,
                None
            ),
            Err(ActivationInputError::Code(_))
        ));
    }
}
