//! The application's branding, checked: only a `#rgb`/`#rrggbb` accent colour (with a
//! text colour that keeps WCAG contrast on it) and only a web URL for the logo.

use crate::flow::is_web_url;

/// An accent colour and the text colour to put on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accent {
    /// `#rrggbb`.
    pub color: String,
    /// `#000000` or `#ffffff`, whichever contrasts more with `color` (always ≥ 4.5:1).
    pub on_color: &'static str,
}

/// Parses the application's accent colour; anything but `#rgb` or `#rrggbb` is ignored
/// (the prompt keeps its own colour), so no CSS can be injected through it.
pub fn accent(color: &str) -> Option<Accent> {
    let hex = color.trim().strip_prefix('#')?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let full: String = match hex.len() {
        3 => hex.chars().flat_map(|c| [c, c]).collect(),
        6 => hex.to_owned(),
        _ => return None,
    };
    let channel = |i: usize| {
        full.get(i..i + 2)
            .and_then(|pair| u8::from_str_radix(pair, 16).ok())
    };
    let (r, g, b) = (channel(0)?, channel(2)?, channel(4)?);
    let luminance = relative_luminance(r, g, b);
    let with_white = contrast(1.0, luminance);
    let with_black = contrast(luminance, 0.0);
    Some(Accent {
        color: format!("#{}", full.to_ascii_lowercase()),
        on_color: if with_white >= with_black {
            "#ffffff"
        } else {
            "#000000"
        },
    })
}

/// The logo's address, if it is a web URL (never `javascript:` or `data:`).
pub fn logo(url: &str) -> Option<&str> {
    is_web_url(url).then_some(url)
}

/// WCAG 2.2 relative luminance of an sRGB colour.
fn relative_luminance(r: u8, g: u8, b: u8) -> f64 {
    let linear = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
}

/// WCAG contrast ratio of a lighter and a darker luminance.
pub fn contrast(lighter: f64, darker: f64) -> f64 {
    (lighter + 0.05) / (darker + 0.05)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents() {
        for (input, expected) in [
            ("#1a56db", Some(("#1a56db", "#ffffff"))),
            ("#FFD700", Some(("#ffd700", "#000000"))),
            ("#fff", Some(("#ffffff", "#000000"))),
            ("#777777", Some(("#777777", "#000000"))),
            (" #000 ", Some(("#000000", "#ffffff"))),
            ("red", None),
            ("#12345", None),
            ("#1a56db; background: url(x)", None),
            ("#ggg", None),
            ("", None),
        ] {
            let got = accent(input);
            assert_eq!(
                got.as_ref().map(|a| (a.color.as_str(), a.on_color)),
                expected,
                "{input:?}"
            );
        }
        // Whatever the accent, its text has at least 4.5:1.
        for grey in (0..=255u8).step_by(5) {
            let accent = accent(&format!("#{grey:02x}{grey:02x}{grey:02x}")).expect("valid");
            let l = relative_luminance(grey, grey, grey);
            let ratio = if accent.on_color == "#ffffff" {
                contrast(1.0, l)
            } else {
                contrast(l, 0.0)
            };
            assert!(ratio >= 4.5, "{grey}: {ratio}");
        }
    }

    #[test]
    fn logos() {
        assert_eq!(
            logo("https://rp.example/logo.png"),
            Some("https://rp.example/logo.png")
        );
        assert_eq!(logo("javascript:alert(1)"), None);
        assert_eq!(logo("data:image/svg+xml,<svg/>"), None);
    }
}
