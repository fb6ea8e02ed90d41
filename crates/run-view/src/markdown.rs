//! Markdown written by a model, as HTML that cannot run anything.
//!
//! pulldown-cmark parses (the parser render's terminal markdown uses); the
//! HTML is written here from its events with a fixed list of elements, so
//! nothing the model wrote becomes markup: raw HTML blocks and inline HTML
//! are shown as text, every text is escaped, a link is clickable only when
//! [`safe_href`] accepts its address (else its text is shown), and images
//! become links (a report never fetches anything).

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag};

use crate::escape::{escape, safe_href};

/// `source` as safe HTML (see the module docs).
///
/// ```
/// let html = run_view::markdown_html("**hi** <script>alert(1)</script> [x](javascript:alert(1))");
/// assert!(html.contains("<strong>hi</strong>"));
/// assert!(html.contains("&lt;script&gt;"));
/// assert!(!html.contains("href=\"javascript"));
/// ```
pub fn markdown_html(source: &str) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut out = String::with_capacity(source.len() * 5 / 4 + 16);
    // What each open tag closes with, so every end matches its start.
    let mut closers: Vec<&'static str> = Vec::new();
    let mut in_table_head = false;
    for event in Parser::new_ext(source, options) {
        match event {
            Event::Start(tag) => {
                let (open, close) = open_tag(&tag, in_table_head);
                if matches!(tag, Tag::TableHead) {
                    in_table_head = true;
                }
                out.push_str(&open);
                closers.push(close);
            }
            Event::End(end) => {
                if matches!(end, pulldown_cmark::TagEnd::TableHead) {
                    in_table_head = false;
                }
                if let Some(close) = closers.pop() {
                    out.push_str(close);
                }
            }
            Event::Text(text) | Event::InlineMath(text) | Event::DisplayMath(text) => {
                out.push_str(&escape(&text));
            }
            Event::Html(text) | Event::InlineHtml(text) => out.push_str(&escape(&text)),
            Event::Code(text) => {
                out.push_str("<code>");
                out.push_str(&escape(&text));
                out.push_str("</code>");
            }
            Event::FootnoteReference(name) => {
                out.push('[');
                out.push_str(&escape(&name));
                out.push(']');
            }
            Event::SoftBreak => out.push('\n'),
            Event::HardBreak => out.push_str("<br>\n"),
            Event::Rule => out.push_str("<hr>\n"),
            Event::TaskListMarker(done) => {
                out.push_str(if done { "[x] " } else { "[ ] " });
            }
        }
    }
    out
}

/// The opening markup of `tag` and the markup that closes it.
fn open_tag(tag: &Tag<'_>, in_table_head: bool) -> (String, &'static str) {
    let fixed = |open: &str, close: &'static str| (open.to_owned(), close);
    match tag {
        Tag::Paragraph => fixed("<p>", "</p>\n"),
        Tag::Heading { level, .. } => match level {
            // A result's headings sit under the report's own (h1 to h3).
            HeadingLevel::H1 | HeadingLevel::H2 => fixed("<h4>", "</h4>\n"),
            HeadingLevel::H3 => fixed("<h5>", "</h5>\n"),
            _ => fixed("<h6>", "</h6>\n"),
        },
        Tag::BlockQuote(_) => fixed("<blockquote>", "</blockquote>\n"),
        Tag::CodeBlock(kind) => {
            let language = match kind {
                CodeBlockKind::Fenced(info) => info.split_whitespace().next().unwrap_or(""),
                CodeBlockKind::Indented => "",
            };
            if language.is_empty() {
                fixed("<pre><code>", "</code></pre>\n")
            } else {
                (
                    format!("<pre><code data-lang=\"{}\">", escape(language)),
                    "</code></pre>\n",
                )
            }
        }
        Tag::List(Some(1)) => fixed("<ol>", "</ol>\n"),
        Tag::List(Some(start)) => (format!("<ol start=\"{start}\">"), "</ol>\n"),
        Tag::List(None) => fixed("<ul>", "</ul>\n"),
        Tag::Item => fixed("<li>", "</li>\n"),
        Tag::Table(_) => fixed("<table>", "</table>\n"),
        Tag::TableHead => fixed("<thead><tr>", "</tr></thead>\n"),
        Tag::TableRow => fixed("<tr>", "</tr>\n"),
        Tag::TableCell if in_table_head => fixed("<th>", "</th>"),
        Tag::TableCell => fixed("<td>", "</td>"),
        Tag::Emphasis => fixed("<em>", "</em>"),
        Tag::Strong => fixed("<strong>", "</strong>"),
        Tag::Strikethrough => fixed("<del>", "</del>"),
        Tag::Superscript => fixed("<sup>", "</sup>"),
        Tag::Subscript => fixed("<sub>", "</sub>"),
        Tag::Link { dest_url, .. } => match safe_href(dest_url) {
            Some(href) => (
                format!(
                    "<a href=\"{href}\" rel=\"noopener noreferrer nofollow\" target=\"_blank\">"
                ),
                "</a>",
            ),
            None => fixed("<span class=\"unsafe-link\">", "</span>"),
        },
        // An image is never loaded: at most a link to it, its text shown.
        Tag::Image { dest_url, .. } => match safe_href(dest_url) {
            Some(href) => (
                format!(
                    "<a class=\"image\" href=\"{href}\" rel=\"noopener noreferrer nofollow\" target=\"_blank\">[image: "
                ),
                "]</a>",
            ),
            None => fixed("<span class=\"unsafe-link\">[image: ", "]</span>"),
        },
        // Raw HTML blocks: their text arrives as `Html` events, escaped.
        Tag::HtmlBlock => fixed("<pre class=\"raw-html\">", "</pre>\n"),
        Tag::FootnoteDefinition(_)
        | Tag::DefinitionList
        | Tag::DefinitionListTitle
        | Tag::DefinitionListDefinition
        | Tag::MetadataBlock(_) => fixed("<div>", "</div>\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_from_the_model_stays_text() {
        let html = markdown_html(
            "<script>alert(1)</script>\n\nhello <img src=x onerror=alert(1)> <svg onload=alert(1)>",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<svg"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
    }

    #[test]
    fn only_http_links_are_clickable() {
        let html = markdown_html(
            "[a](javascript:alert(1)) [b](https://example.com/\"onclick=\"x) <javascript:alert(2)> ![i](https://e.com/x.png) [c](data:text/html,hi)",
        );
        assert!(!html.contains("href=\"javascript"), "{html}");
        assert!(!html.contains("href=\"data"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains("href=\"https://example.com/%22onclick=%22x\"")
                || html.contains("href=\"https://example.com/&quot;onclick=&quot;x\""),
            "{html}"
        );
        assert!(html.contains("[image: i]"), "{html}");
    }

    #[test]
    fn structure_is_kept() {
        let html = markdown_html(
            "# Title\n\n- one\n- two\n\n```rust\nfn main() {}\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
        );
        insta::assert_snapshot!(html);
    }

    #[test]
    fn code_language_cannot_break_out_of_its_attribute() {
        let html = markdown_html("```\"><script>x</script>\ncode\n```\n");
        assert!(!html.contains("<script"), "{html}");
    }
}
