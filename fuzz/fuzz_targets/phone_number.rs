//! Arbitrary strings through the phone-number parser and the numbering-range check: never
//! a panic; an accepted number is E.164 and reparses, from every display form that shows
//! it, to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_shared::phone::{NumberingRanges, PhoneNumber};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let ranges = NumberingRanges::parse(&[text]);
    let Ok(number) = PhoneNumber::parse(text) else {
        return;
    };
    let e164 = number.as_str();
    assert!(e164.len() <= 16 && e164.starts_with('+'));
    assert!(e164.bytes().skip(1).all(|b| b.is_ascii_digit()));
    assert_eq!(PhoneNumber::parse(e164), Ok(number.clone()));
    assert_eq!(
        PhoneNumber::parse(&number.display_international()),
        Ok(number.clone())
    );
    assert!(number.masked().ends_with(number.last_four()));
    assert!(number.matches_last_four(number.last_four()));
    // A number is inside the range made of itself.
    if let Ok(ranges) = ranges {
        assert!(ranges.check_off_campus(&number).is_err());
    }
});
