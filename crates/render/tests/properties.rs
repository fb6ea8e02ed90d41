//! Properties every renderer keeps: no escape byte without colour, escapes
//! with colour, lines within the width, rectangular panels, and no panic on
//! odd markdown.

use std::time::Duration;

use proptest::prelude::*;
use render::{
    Accent, Panel, ProgressBoard, ProgressItem, Status, Theme, TreeItem, UsageLine, display_width,
    humanize, key_value, markdown, plain_event_line, retry_line, rule, status_line, tree,
    usage_line,
};

const ESC: char = '\u{1b}';

/// Input that tries to smuggle escape codes and control characters in.
const HOSTILE: &str = "\u{1b}[31mred\u{1b}[0m \u{1b}[2J\u{7}bell\r\u{0}\ttab 🔀 日本";

const MARKDOWN: &str = "# Title\n\nSome **bold**, *italic*, `code` and a [link](https://example.com).\n\n\
- one\n  - nested\n1. first\n\n```rust\nfn main() {}\n```\n\n> quote\n\n---\n\n| a | b |\n|---|---|\n| 1 | 2 |\n";

/// Every renderer's output for `theme`, on ordinary and hostile input.
fn every_renderer(theme: &Theme) -> Vec<(&'static str, String)> {
    let item =
        ProgressItem::new("step_1", HOSTILE, Status::Ok).with_elapsed(Duration::from_secs(2));
    let mut board = ProgressBoard::new(HOSTILE, 3);
    board.update(item.clone());
    board.update(ProgressItem::new("step_2", "Login", Status::Running));
    let usage = UsageLine {
        prompt: 10,
        output: 20,
        total: 30,
        ..UsageLine::default()
    };
    vec![
        (
            "panel",
            Panel::new(HOSTILE)
                .title(HOSTILE)
                .accent(Accent::Cyan)
                .render(theme),
        ),
        (
            "markdown panel",
            Panel::markdown(MARKDOWN).title("Response").render(theme),
        ),
        ("markdown", markdown(MARKDOWN, 60, theme)),
        (
            "hostile markdown",
            markdown(&format!("**{HOSTILE}**\n\n```\n{HOSTILE}\n```"), 60, theme),
        ),
        (
            "tree",
            tree(HOSTILE, &[TreeItem::new(HOSTILE).with_note(HOSTILE)], theme),
        ),
        ("status", status_line(Status::Failed, HOSTILE, theme)),
        ("key value", key_value("Model", HOSTILE, theme)),
        ("rule", rule(HOSTILE, theme)),
        ("usage", usage_line(&usage, theme)),
        ("frame", board.frame(Duration::from_secs(5), theme)),
        (
            "event",
            plain_event_line(Duration::from_secs(1), &item, theme),
        ),
        (
            "retry",
            retry_line(2, Duration::from_secs(13), HOSTILE, theme),
        ),
    ]
}

#[test]
fn no_escape_byte_without_colour() {
    for (name, output) in every_renderer(&Theme::plain(80)) {
        assert!(
            !output.contains(ESC),
            "{name} emitted an escape: {output:?}"
        );
    }
}

#[test]
fn escapes_with_colour() {
    for (name, output) in every_renderer(&Theme::new(true, 80)) {
        assert!(output.contains(ESC), "{name} has no colour: {output:?}");
        // Only colour (SGR) sequences: nothing that moves the cursor or clears.
        for (index, _) in output.match_indices(ESC) {
            let rest = &output[index..];
            let end = rest.find('m').expect("sequence is terminated");
            let params = &rest[2..end];
            assert!(
                rest.starts_with("\u{1b}[")
                    && params.chars().all(|c| c.is_ascii_digit() || c == ';'),
                "{name} emitted a non-colour sequence: {rest:?}"
            );
        }
    }
}

#[test]
fn markdown_lines_fit_except_verbatim_code() {
    let document = "A paragraph with some words that will have to wrap, many many times over, at any width at all.\n\n\
        - a bullet with enough words in it to wrap more than once at narrow widths\n  1. a nested numbered item that also wraps around\n\n\
        > a quote that wraps a few times as well, because it is long enough\n\n\
        ```\nshort code\nthis code line is deliberately very long and must stay whole whatever the width is\n```\n\n\
        | column one | column two |\n|---|---|\n| a cell with words | another cell with more words |\n\n\
        ## A heading long enough to wrap at narrow widths\n";
    for width in [20, 30, 44, 60, 80, 120] {
        for color in [false, true] {
            let rendered = markdown(document, width, &Theme::new(color, 80));
            for line in rendered.lines() {
                if line.contains("deliberately very long") {
                    continue;
                }
                assert!(display_width(line) <= width, "width {width}: {line:?}");
            }
            let code = rendered
                .lines()
                .filter(|line| line.contains("deliberately"))
                .count();
            assert_eq!(code, 1, "long code line kept whole at width {width}");
        }
    }
}

#[test]
fn panel_lines_have_equal_width_with_wide_characters() {
    let bodies = [
        "🔀🔀🔀🔀🔀🔀🔀🔀🔀🔀🔀🔀🔀🔀🔀🔀🔀🔀🔀🔀🔀🔀🔀🔀🔀🔀🔀🔀🔀🔀🔀🔀🔀🔀🔀🔀🔀🔀🔀🔀🔀🔀🔀",
        "日本語のテキストは空白なしで続きます日本語のテキストは空白なしで続きます日本語のテキストは空白なしで続きます",
        "mixed 🐝 swarm and 🎯 plan and some ascii text to wrap around the border",
    ];
    for width in [40, 41, 57, 80, 133] {
        for color in [false, true] {
            let theme = Theme::new(color, width);
            for body in bodies {
                for title in ["🔀 Fork fork_095723_001", "🐝", ""] {
                    let plain = Panel::new(body)
                        .title(title)
                        .accent(Accent::Green)
                        .render(&theme);
                    let md = Panel::markdown(format!("**{body}**\n\n```\n{body}\n```"))
                        .title(title)
                        .render(&theme);
                    for panel in [plain, md] {
                        for line in panel.lines() {
                            assert_eq!(display_width(line), width, "{line:?}");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn truncation_respects_display_width() {
    for width in 0..12 {
        for text in [
            "Implement Login Endpoint",
            "🔀🔀🔀🔀🔀🔀",
            "日本語テキスト",
            "",
        ] {
            let cut = humanize::truncate(text, width);
            assert!(display_width(&cut) <= width, "{text:?} at {width}: {cut:?}");
        }
    }
}

/// Pieces that make markdown parsers work hard.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "#", "## ", "- ", "* ", "+ ", "1. ", "10) ", "```", "~~~", "`", "**", "*", "_", "~~",
            "[", "](", ")", "![", "<", ">", "> ", "|", "|---|", "|:-:|", "---", "***", "\n", "\n\n",
            " ", "    ", "\t", "🔀", "日本語", "word", "https://example.com/a/b", "<https://x.y>",
            "\u{1b}[31m", "\r", "\u{0}", "- [ ] ", "- [x] ", "\\", "&amp;", "<b>", "</b>", "<!-- c -->",
            "[^1]", "[^1]: note", "a_very_long_word_without_any_spaces_to_force_breaking_somewhere",
            "\u{200d}", "e\u{301}", "🏳️‍🌈",
        ])
        .prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

fn document() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..60).prop_map(|parts| parts.concat())
}

proptest! {
    // A fixed seed keeps runs reproducible; no regression files are written.
    #![proptest_config(ProptestConfig {
        cases: 512,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed_2024),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn markdown_never_panics_and_hides_escapes(source in document(), width in 0usize..160, color: bool) {
        let theme = Theme::new(color, 80);
        let rendered = markdown(&source, width, &theme);
        if !color {
            prop_assert!(!rendered.contains(ESC));
        }
        let width = width.max(render::MIN_MARKDOWN_WIDTH);
        for line in rendered.lines() {
            // Only verbatim code (behind its bar) may overflow.
            prop_assert!(display_width(line) <= width || line.contains('│'), "{:?}", line);
        }
    }

    #[test]
    fn markdown_panels_stay_rectangular(source in document(), width in 0usize..160, color: bool) {
        let theme = Theme::new(color, width);
        let panel = Panel::markdown(source).title("🔀 Fork").render(&theme);
        for line in panel.lines() {
            prop_assert_eq!(display_width(line), theme.width(), "{:?}", line);
        }
    }

    #[test]
    fn text_panels_stay_rectangular(body in any::<String>(), title in any::<String>(), width in 0usize..160) {
        let theme = Theme::plain(width);
        let panel = Panel::new(body).title(title).render(&theme);
        for line in panel.lines() {
            prop_assert_eq!(display_width(line), theme.width(), "{:?}", line);
        }
    }
}
