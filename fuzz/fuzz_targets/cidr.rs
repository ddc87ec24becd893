//! Arbitrary strings through the CIDR parser: never a panic; an accepted block contains
//! its own network address, reparses from its text to itself, and matching an arbitrary
//! address never panics.
#![no_main]

use std::net::{IpAddr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use tessera_shared::policy::Cidr;

fuzz_target!(|data: &[u8]| {
    let (address, text) = match data.split_first_chunk::<16>() {
        Some((address, rest)) => (IpAddr::V6(Ipv6Addr::from(*address)), rest),
        None => (IpAddr::V6(Ipv6Addr::UNSPECIFIED), data),
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let Ok(cidr) = text.parse::<Cidr>() else {
        return;
    };
    assert!(cidr.contains(cidr.network()));
    assert_eq!(cidr.to_string().parse::<Cidr>(), Ok(cidr));
    let _ = cidr.contains(address);
    let canonical = address.to_canonical();
    if canonical != address {
        assert_eq!(
            cidr.contains(canonical),
            cidr.contains(address),
            "mapped and plain IPv4 agree"
        );
    }
});
