use super::*;
// On wasm32 the same tests run under wasm-bindgen-test (in Node).
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// What a parse should give: (E.164, country code, masked) or the error.
type Expected = Result<(&'static str, u16, &'static str), PhoneError>;

/// `input` parses to `expected` or fails with the error.
fn check(input: &str, expected: Expected) {
    let parsed = PhoneNumber::parse(input);
    let got = parsed.map(|n| (n.as_str().to_owned(), n.country_code(), n.masked()));
    let expected = expected.map(|(e164, code, masked)| (e164.to_owned(), code, masked.to_owned()));
    assert_eq!(got, expected, "{input:?}");
}

#[test]
fn parsing() {
    use PhoneError::*;
    let cases: &[(&str, Expected)] = &[
        // The source FAQ's example and the task's examples.
        (
            "+41 33 123456789",
            Ok(("+4133123456789", 41, "+41 XXXXXXX6789")),
        ),
        ("+1 (555) 010-0100", Ok(("+15550100100", 1, "XXX-XXX-0100"))),
        (
            "00 41 33 123456789",
            Ok(("+4133123456789", 41, "+41 XXXXXXX6789")),
        ),
        ("0041331234567", Ok(("+41331234567", 41, "+41 XXXXX4567"))),
        ("+1 585 275 2000", Ok(("+15852752000", 1, "XXX-XXX-2000"))),
        ("+1.585.275.2000", Ok(("+15852752000", 1, "XXX-XXX-2000"))),
        (
            "  +44 20 7946 0958\n",
            Ok(("+442079460958", 44, "+44 XXXXXX0958")),
        ),
        (
            "+49 (0)30/1234567",
            Ok(("+490301234567", 49, "+49 XXXXXX4567")),
        ),
        ("+7 912 345-67-89", Ok(("+79123456789", 7, "+7 XXXXXX6789"))),
        (
            "+81\u{a0}3-1234-5678",
            Ok(("+81312345678", 81, "+81 XXXXX5678")),
        ),
        (
            "+380 44 123 4567",
            Ok(("+380441234567", 380, "+380 XXXXX4567")),
        ),
        ("+683 4002", Ok(("+6834002", 683, "+683 4002"))),
        ("+882 1234 5678", Ok(("+88212345678", 882, "+882 XXXX5678"))),
        // 15 digits, the E.164 maximum.
        (
            "+86 123 4567 8901 23",
            Ok(("+861234567890123", 86, "+86 XXXXXXXXX0123")),
        ),
        (
            "+386 1234 5678 9012",
            Ok(("+386123456789012", 386, "+386 XXXXXXXX9012")),
        ),
        // Errors.
        ("", Err(Empty)),
        ("   ", Err(Empty)),
        ("+", Err(TooShort)),
        ("00", Err(TooShort)),
        ("+41", Err(TooShort)),
        ("+41 123", Err(TooShort)),
        ("+3861234567890123", Err(TooLong)),
        ("+1 555 010 01000", Err(NorthAmerica)),
        ("+1 555 010 010", Err(NorthAmerica)),
        ("+1 055 010 0100", Err(NorthAmerica)),
        ("+1 155 010 0100", Err(NorthAmerica)),
        ("41 33 123456789", Err(MissingInternationalPrefix)),
        ("033 123 45 67", Err(MissingInternationalPrefix)),
        ("(555) 010-0100", Err(MissingInternationalPrefix)),
        ("+0 41 123456", Err(CountryCodeZero)),
        ("000 41 123456", Err(CountryCodeZero)),
        ("+ 0", Err(CountryCodeZero)),
        ("+28 1234567", Err(UnknownCountryCode("281".into()))),
        ("+259 1234567", Err(UnknownCountryCode("259".into()))),
        ("+999 1234567", Err(UnknownCountryCode("999".into()))),
        ("+1 800 FLOWERS", Err(InvalidCharacter('F'))),
        ("+41 33 123 45 67 ext 2", Err(InvalidCharacter('e'))),
        ("+41 33 123 45 67 x2", Err(InvalidCharacter('x'))),
        ("++41 33 123 45 67", Err(InvalidCharacter('+'))),
        ("+41+33 123 45 67", Err(InvalidCharacter('+'))),
        ("+41 33 123 45 67;", Err(InvalidCharacter(';'))),
        ("+41 33 １23 45 67", Err(InvalidCharacter('１'))),
        ("+٤١ 33 123 45 67", Err(InvalidCharacter('٤'))),
        ("tel:+41331234567", Err(InvalidCharacter('t'))),
        (
            "+41 33 123 45 67 89 01 23 45 67 89 01 23 45 67 89 01 23 45 67 89 01",
            Err(InputTooLong),
        ),
    ];
    for (input, expected) in cases {
        check(input, expected.clone());
    }
}

#[test]
fn display_forms() {
    // (input, display_international, national, last four)
    let cases: &[(&str, &str, &str, &str)] = &[
        ("+1 (555) 010-0100", "+1 555-010-0100", "5550100100", "0100"),
        ("+41 33 123456789", "+41 33123456789", "33123456789", "6789"),
        ("+683 4002", "+683 4002", "4002", "4002"),
    ];
    for &(input, international, national, last_four) in cases {
        let number = PhoneNumber::parse(input).unwrap();
        assert_eq!(number.display_international(), international);
        assert_eq!(number.national_number(), national);
        assert_eq!(number.last_four(), last_four);
        assert_eq!(number.to_string(), number.as_str());
        assert_eq!(
            number.as_str().parse::<PhoneNumber>().unwrap(),
            number,
            "E.164 reparses"
        );
        assert_eq!(
            number
                .display_international()
                .parse::<PhoneNumber>()
                .unwrap(),
            number
        );
    }
    let number = PhoneNumber::parse("+1 555 010 0100").unwrap();
    assert!(number.matches_last_four("0100"));
    assert!(number.matches_last_four(" 0100 "));
    assert!(!number.matches_last_four("100"));
    assert!(!number.matches_last_four("00100"));
    assert!(!number.matches_last_four("0101"));
}

#[test]
fn the_country_code_table_is_sorted_and_prefix_free() {
    assert_eq!(COUNTRY_CODES.len(), 215);
    assert!(COUNTRY_CODES.windows(2).all(|w| w[0] < w[1]));
    for &code in COUNTRY_CODES {
        let text = code.to_string();
        for len in 1..text.len() {
            let prefix: u16 = text[..len].parse().unwrap();
            assert!(
                COUNTRY_CODES.binary_search(&prefix).is_err(),
                "{prefix} is a prefix of {code}"
            );
        }
    }
}

#[test]
fn off_campus() {
    let ranges = NumberingRanges::parse(&["+1 585 275", "+1 (585) 276-", "0041 33 22"]).unwrap();
    // (number, the range it is in)
    let cases: &[(&str, Option<&str>)] = &[
        ("+1 585 275 2000", Some("+1585275")),
        ("+1 585 276 9999", Some("+1585276")),
        ("+41 33 221 00 00", Some("+413322")),
        ("+1 585 274 2000", None),
        ("+1 716 275 2000", None),
        ("+41 33 231 00 00", None),
        ("+44 20 7946 0958", None),
    ];
    for &(number, range) in cases {
        let number = PhoneNumber::parse(number).unwrap();
        assert_eq!(ranges.containing(&number).as_deref(), range, "{number}");
        assert_eq!(ranges.check_off_campus(&number).is_ok(), range.is_none());
    }
    let error = ranges
        .check_off_campus(&PhoneNumber::parse("+1 585 275 2000").unwrap())
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "+15852752000 is a campus number (in the range +1585275…); enter an off-campus number"
    );
    assert!(
        NumberingRanges::default()
            .check_off_campus(&PhoneNumber::parse("+1 585 275 2000").unwrap())
            .is_ok()
    );
}

#[test]
fn bad_numbering_ranges() {
    let cases: &[(&[&str], RangeError)] = &[
        (
            &["+1 585", "585 275"],
            RangeError {
                index: 1,
                source: PhoneError::MissingInternationalPrefix,
            },
        ),
        (
            &["+"],
            RangeError {
                index: 0,
                source: PhoneError::TooShort,
            },
        ),
        (
            &["+28"],
            RangeError {
                index: 0,
                source: PhoneError::UnknownCountryCode("28".into()),
            },
        ),
        (
            &["+0"],
            RangeError {
                index: 0,
                source: PhoneError::CountryCodeZero,
            },
        ),
        (
            &["+1 585 CAMPUS"],
            RangeError {
                index: 0,
                source: PhoneError::InvalidCharacter('C'),
            },
        ),
        (
            &["+1234567890123456"],
            RangeError {
                index: 0,
                source: PhoneError::TooLong,
            },
        ),
    ];
    for (prefixes, expected) in cases {
        assert_eq!(
            NumberingRanges::parse(prefixes).as_ref(),
            Err(expected),
            "{prefixes:?}"
        );
    }
}
