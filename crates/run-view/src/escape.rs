//! Escaping for text someone else wrote: every string a model, a plan or a
//! tool produced passes through here before it reaches the page.
//!
//! Text is first cleaned with [`render::strip_controls`] (control
//! characters and bidirectional overrides become `�`), then escaped for
//! where it goes. The same escaping serves element content, quoted
//! attribute values and SVG text (SVG inline in HTML is parsed by the same
//! rules), so there is one function and nothing to choose wrongly.

/// `text`, cleaned of control characters and escaped for HTML element
/// content, a double- or single-quoted attribute value, or SVG text.
///
/// ```
/// assert_eq!(
///     run_view::escape("<img src=x onerror=\"alert(1)\">&'"),
///     "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;"
/// );
/// ```
pub fn escape(text: &str) -> String {
    let clean = render::strip_controls(text);
    let mut out = String::with_capacity(clean.len() + clean.len() / 8);
    for ch in clean.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            ch => out.push(ch),
        }
    }
    out
}

/// The link a page may make clickable: only an absolute `http` or `https`
/// URL without controls or whitespace, returned escaped for an `href`
/// attribute. Anything else (`javascript:`, `data:`, relative paths,
/// protocol-relative `//host`) is `None` and is shown as text.
///
/// ```
/// assert_eq!(run_view::safe_href("https://example.com/?a=1&b=2").as_deref(),
///            Some("https://example.com/?a=1&amp;b=2"));
/// assert_eq!(run_view::safe_href("javascript:alert(1)"), None);
/// assert_eq!(run_view::safe_href(" JaVaScRiPt:alert(1)"), None);
/// ```
pub fn safe_href(url: &str) -> Option<String> {
    let lower = url.to_ascii_lowercase();
    let scheme_ok = lower.starts_with("https://") || lower.starts_with("http://");
    let host_present = url
        .split_once("://")
        .is_some_and(|(_, rest)| !rest.is_empty() && !rest.starts_with('/'));
    let plain = url
        .chars()
        .all(|ch| !ch.is_control() && !ch.is_whitespace() && ch != '\\');
    (scheme_ok && host_present && plain && url.len() <= 4096).then(|| escape(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_markup_are_escaped() {
        assert_eq!(
            escape("\"><script>alert(1)</script>"),
            "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(escape("' onmouseover='x"), "&#39; onmouseover=&#39;x");
    }

    #[test]
    fn controls_and_bidi_overrides_are_replaced() {
        assert_eq!(escape("a\u{1b}[31mb\u{202e}c"), "a\u{fffd}b\u{fffd}c");
    }

    #[test]
    fn only_absolute_http_links_pass() {
        for bad in [
            "javascript:alert(1)",
            "JAVASCRIPT:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:x",
            "//evil.example/x",
            "/etc/passwd",
            "http:/x",
            "https:///x",
            "https://a b",
            "https://a\u{0}b",
            "http://x\\@evil",
            "\thttps://x",
        ] {
            assert_eq!(safe_href(bad), None, "{bad:?} must not be a link");
        }
        assert_eq!(
            safe_href("http://example.com/\"onmouseover=\"x").as_deref(),
            Some("http://example.com/&quot;onmouseover=&quot;x")
        );
    }
}
