//! Authorized networks: CIDR blocks parsed from configuration, matched against the client
//! address the platform reports, and the verdict they give.
//!
//! Addresses are parsed by `std::net` (which refuses zone ids and leading-zero octets);
//! what is left, a prefix mask compare, is a few lines, so no crate (`ipnet` would add a
//! dependency for the same compare and accepts host bits without complaint).
//!
//! One address space: IPv4 lives at `::ffff:0:0/96`, so an IPv4-mapped client address
//! (`::ffff:192.0.2.1`, as dual-stack sockets report) matches `192.0.2.0/24`, a block
//! written inside that space (`::ffff:192.0.2.0/120`) is stored as its IPv4 form, and
//! `::/0` covers every address while `0.0.0.0/0` covers every IPv4 address.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use thiserror::Error;

use super::DenyReason;
pub use crate::v1::NetworkAction;

/// At most this many blocks in one policy: the match is linear, and no real
/// configuration comes close.
pub const MAX_NETWORKS: usize = 1024;

/// A network: an address with its host bits clear and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

/// Why a CIDR block was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CidrError {
    #[error("{0:?} is not an IPv4 or IPv6 address")]
    BadAddress(String),
    #[error("{0:?} is not a prefix length")]
    BadPrefix(String),
    #[error("the prefix length {prefix} is longer than {max}")]
    PrefixTooLong { prefix: u8, max: u8 },
    #[error("{given} has host bits set; the network is {network}")]
    HostBitsSet { given: String, network: Cidr },
}

/// The IPv6 form of an address: IPv4 addresses map into `::ffff:0:0/96`.
fn bits(address: IpAddr) -> u128 {
    match address {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// The mask of a prefix length in the 128-bit space.
fn mask(prefix: u8) -> u128 {
    u128::MAX
        .checked_shl(128_u32.saturating_sub(u32::from(prefix)))
        .unwrap_or(0)
}

impl Cidr {
    /// The network address.
    pub fn network(&self) -> IpAddr {
        self.network
    }

    /// The prefix length, in the address's own family (`/24` for IPv4).
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// The prefix length in the shared 128-bit space.
    fn prefix128(&self) -> u8 {
        match self.network {
            IpAddr::V4(_) => self.prefix.saturating_add(96),
            IpAddr::V6(_) => self.prefix,
        }
    }

    /// Whether `address` is inside the block.
    pub fn contains(&self, address: IpAddr) -> bool {
        let mask = mask(self.prefix128());
        bits(address) & mask == bits(self.network) & mask
    }
}

impl FromStr for Cidr {
    type Err = CidrError;

    /// Parses `address/prefix`, or a bare address as a single host (`/32`, `/128`).
    /// Surrounding whitespace is ignored; host bits must be clear.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr = address
            .parse()
            .map_err(|_| CidrError::BadAddress(address.to_owned()))?;
        let max = match address {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        let prefix = match prefix {
            None => max,
            Some(p) if (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()) => p
                .parse::<u8>()
                .map_err(|_| CidrError::BadPrefix(p.to_owned()))?,
            Some(p) => return Err(CidrError::BadPrefix(p.to_owned())),
        };
        if prefix > max {
            return Err(CidrError::PrefixTooLong { prefix, max });
        }
        let cidr = canonical(address, prefix);
        if bits(cidr.network) != bits(address) {
            return Err(CidrError::HostBitsSet {
                given: text.to_owned(),
                network: cidr,
            });
        }
        Ok(cidr)
    }
}

/// The block with host bits cleared, IPv4-mapped IPv6 blocks stored as IPv4.
fn canonical(address: IpAddr, prefix: u8) -> Cidr {
    match address {
        IpAddr::V4(v4) => {
            let mask = u32::MAX
                .checked_shl(32_u32.saturating_sub(u32::from(prefix)))
                .unwrap_or(0);
            Cidr {
                network: IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask)),
                prefix,
            }
        }
        IpAddr::V6(v6) => {
            let network = Ipv6Addr::from(u128::from(v6) & mask(prefix));
            match network.to_ipv4_mapped() {
                Some(v4) if prefix >= 96 => Cidr {
                    network: IpAddr::V4(v4),
                    prefix: prefix.saturating_sub(96),
                },
                _ => Cidr {
                    network: IpAddr::V6(network),
                    prefix,
                },
            }
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// Why a set of authorized networks was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NetworksError {
    #[error("authorized networks need at least one block")]
    Empty,
    #[error("at most {MAX_NETWORKS} authorized networks")]
    TooMany,
    #[error("network {index}: {source}")]
    Cidr {
        index: usize,
        #[source]
        source: CidrError,
    },
}

/// The authorized networks of a policy: at least one block, and what they do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizedNetworks {
    networks: Vec<Cidr>,
    action: NetworkAction,
}

/// The authorized networks' verdict for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkDecision {
    /// The rule says nothing here.
    NoEffect,
    /// Inside an authorized network that waives 2FA.
    AllowWithout2fa,
    /// Inside an authorized network that requires 2FA (or enrollment).
    Require2fa,
    Deny {
        reason: DenyReason,
    },
}

impl AuthorizedNetworks {
    pub fn new(networks: Vec<Cidr>, action: NetworkAction) -> Result<Self, NetworksError> {
        if networks.is_empty() {
            return Err(NetworksError::Empty);
        }
        if networks.len() > MAX_NETWORKS {
            return Err(NetworksError::TooMany);
        }
        Ok(Self { networks, action })
    }

    /// Parses configured blocks, reporting the first bad one by position.
    pub fn parse<S: AsRef<str>>(
        networks: &[S],
        action: NetworkAction,
    ) -> Result<Self, NetworksError> {
        if networks.len() > MAX_NETWORKS {
            return Err(NetworksError::TooMany);
        }
        let parsed = networks
            .iter()
            .enumerate()
            .map(|(index, text)| {
                text.as_ref()
                    .parse()
                    .map_err(|source| NetworksError::Cidr { index, source })
            })
            .collect::<Result<Vec<Cidr>, _>>()?;
        Self::new(parsed, action)
    }

    pub fn networks(&self) -> &[Cidr] {
        &self.networks
    }

    pub fn action(&self) -> NetworkAction {
        self.action
    }

    /// Whether `address` is inside any of the blocks.
    pub fn contains(&self, address: IpAddr) -> bool {
        self.networks.iter().any(|cidr| cidr.contains(address))
    }

    /// The verdict for a client address. Without an address the rule has no effect (as
    /// in Duo: location and network policies need the access device's IP).
    pub fn decide(&self, client: Option<IpAddr>) -> NetworkDecision {
        let Some(client) = client else {
            return NetworkDecision::NoEffect;
        };
        match (self.action, self.contains(client)) {
            (NetworkAction::AllowWithout2fa, true) => NetworkDecision::AllowWithout2fa,
            (NetworkAction::Require2fa, true) => NetworkDecision::Require2fa,
            (NetworkAction::DenyOthers, false) => NetworkDecision::Deny {
                reason: DenyReason::NetworkNotAuthorized,
            },
            _ => NetworkDecision::NoEffect,
        }
    }
}

#[cfg(test)]
mod tests;
