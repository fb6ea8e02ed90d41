//! The two settings every renderer reads (colour on/off and the width in
//! columns) and the `--color` choice that decides the first one.
//!
//! Colour is decided once, by the CLI, with [`resolve_color`]; renderers only
//! look at [`Theme::color`]. When it is false no renderer emits an escape
//! byte, whatever the input.

use std::fmt;
use std::str::FromStr;

use owo_colors::{OwoColorize, Style};

/// Narrowest width a [`Theme`] accepts; smaller values are raised to this.
pub const MIN_WIDTH: usize = 40;
/// Widest width a [`Theme`] accepts; larger values are lowered to this, so
/// prose stays readable on very wide terminals.
pub const MAX_WIDTH: usize = 200;

/// How a renderer should draw: with or without colour, and in how many
/// columns.
///
/// ```
/// let theme = render::Theme::new(false, 10);
/// assert_eq!(theme.width(), render::MIN_WIDTH);
/// assert!(!theme.color());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    color: bool,
    width: usize,
    hyperlinks: bool,
}

impl Theme {
    /// A theme drawing in `width` columns (clamped to
    /// [`MIN_WIDTH`]..=[`MAX_WIDTH`]), with ANSI colour when `color` is true.
    pub fn new(color: bool, width: usize) -> Self {
        Self {
            color,
            width: width.clamp(MIN_WIDTH, MAX_WIDTH),
            hyperlinks: false,
        }
    }

    /// The same theme with OSC 8 hyperlinks on or off (off by default: the
    /// caller turns them on for a terminal known to support them).
    #[must_use]
    pub fn with_hyperlinks(self, hyperlinks: bool) -> Self {
        Self { hyperlinks, ..self }
    }

    /// True when [`Theme::link`] may emit OSC 8 hyperlinks.
    pub fn hyperlinks(&self) -> bool {
        self.hyperlinks
    }

    /// `text` as a clickable link to `url` (OSC 8) when hyperlinks are on
    /// and `url` is a plain `http(s)` URL (printable ASCII, no spaces);
    /// otherwise `text` alone. Both may come from a model: `text` is
    /// cleaned of every control, and a URL that could end the sequence
    /// early or carry one is never linked.
    ///
    /// ```
    /// let theme = render::Theme::plain(80).with_hyperlinks(true);
    /// assert_eq!(
    ///     theme.link("Docs", "https://example.com/a"),
    ///     "\u{1b}]8;;https://example.com/a\u{1b}\\Docs\u{1b}]8;;\u{1b}\\"
    /// );
    /// assert_eq!(theme.link("Docs", "https://x\u{7}y"), "Docs");
    /// assert_eq!(render::Theme::plain(80).link("Docs", "https://example.com"), "Docs");
    /// ```
    pub fn link(&self, text: &str, url: &str) -> String {
        let text = crate::text::single_line(text);
        let plain_url = (url.starts_with("https://") || url.starts_with("http://"))
            && url.bytes().all(|byte| byte.is_ascii_graphic());
        if self.hyperlinks && plain_url {
            format!("\u{1b}]8;;{url}\u{1b}\\{text}\u{1b}]8;;\u{1b}\\")
        } else {
            text
        }
    }

    /// A colourless theme of the given width (handy for logs and tests).
    pub fn plain(width: usize) -> Self {
        Self::new(false, width)
    }

    /// True when renderers may emit ANSI escape codes.
    pub fn color(&self) -> bool {
        self.color
    }

    /// Total columns available, borders included.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The same theme with another width (clamped like [`Theme::new`]).
    #[must_use]
    pub fn with_width(self, width: usize) -> Self {
        Self::new(self.color, width)
    }

    /// The same theme with colour switched on or off.
    #[must_use]
    pub fn with_color(self, color: bool) -> Self {
        Self { color, ..self }
    }

    /// `text` wrapped in `style` when colour is on; `text` unchanged when off.
    pub(crate) fn paint(&self, text: &str, style: Style) -> String {
        if self.color && !style.is_plain() && !text.is_empty() {
            text.style(style).to_string()
        } else {
            text.to_owned()
        }
    }

    /// `text` dimmed when colour is on.
    pub(crate) fn dim(&self, text: &str) -> String {
        self.paint(text, Style::new().dimmed())
    }

    /// `text` in bold when colour is on.
    pub(crate) fn bold(&self, text: &str) -> String {
        self.paint(text, Style::new().bold())
    }
}

/// A colour for borders and markers, used only when colour is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accent {
    /// Blue.
    Blue,
    /// Cyan.
    Cyan,
    /// Green, for success.
    Green,
    /// Magenta.
    Magenta,
    /// Red, for failure.
    Red,
    /// Yellow, for warnings and skipped work.
    Yellow,
    /// The terminal's dim foreground.
    Dim,
}

impl Accent {
    /// The owo-colors style for this accent.
    pub(crate) fn style(self) -> Style {
        let style = Style::new();
        match self {
            Self::Blue => style.blue(),
            Self::Cyan => style.cyan(),
            Self::Green => style.green(),
            Self::Magenta => style.magenta(),
            Self::Red => style.red(),
            Self::Yellow => style.yellow(),
            Self::Dim => style.dimmed(),
        }
    }
}

/// The user's `--color` choice.
///
/// ```
/// use render::ColorChoice;
/// assert_eq!("never".parse::<ColorChoice>(), Ok(ColorChoice::Never));
/// assert!("sometimes".parse::<ColorChoice>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorChoice {
    /// Colour only on a terminal, and not when `NO_COLOR` is set.
    #[default]
    Auto,
    /// Always colour, even into a pipe and despite `NO_COLOR`.
    Always,
    /// Never colour.
    Never,
}

impl fmt::Display for ColorChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::Always => "always",
            Self::Never => "never",
        })
    }
}

/// A `--color` value that is not `auto`, `always` or `never`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid colour choice `{given}`: use auto, always or never")]
pub struct ParseColorChoiceError {
    given: String,
}

impl FromStr for ColorChoice {
    type Err = ParseColorChoiceError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "always" => Ok(Self::Always),
            "never" => Ok(Self::Never),
            _ => Err(ParseColorChoiceError {
                given: text.to_owned(),
            }),
        }
    }
}

/// Decides whether to colour, following <https://no-color.org>.
///
/// `always` wins over everything (a command-line flag overrides the
/// environment), `never` always disables colour, and `auto` colours only
/// when stdout is a terminal and `NO_COLOR` is unset or empty. Pass the value
/// of `NO_COLOR` as read by the caller; this function reads nothing itself.
///
/// ```
/// use render::{resolve_color, ColorChoice};
/// assert!(resolve_color(ColorChoice::Auto, true, None));
/// assert!(!resolve_color(ColorChoice::Auto, true, Some("1")));
/// assert!(resolve_color(ColorChoice::Auto, true, Some("")));
/// assert!(!resolve_color(ColorChoice::Auto, false, None));
/// assert!(resolve_color(ColorChoice::Always, false, Some("1")));
/// ```
pub fn resolve_color(choice: ColorChoice, stdout_is_tty: bool, no_color_env: Option<&str>) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            let no_color = no_color_env.is_some_and(|value| !value.is_empty());
            stdout_is_tty && !no_color
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn width_is_clamped() {
        assert_eq!(Theme::new(true, 0).width(), MIN_WIDTH);
        assert_eq!(Theme::new(true, 100).width(), 100);
        assert_eq!(Theme::new(true, 10_000).width(), MAX_WIDTH);
        assert_eq!(Theme::plain(100).with_width(1).width(), MIN_WIDTH);
    }

    #[test]
    fn color_choice_parses_and_displays() {
        for choice in [ColorChoice::Auto, ColorChoice::Always, ColorChoice::Never] {
            assert_eq!(choice.to_string().parse::<ColorChoice>(), Ok(choice));
        }
        assert_eq!(" ALWAYS ".parse::<ColorChoice>(), Ok(ColorChoice::Always));
        let error = "yes".parse::<ColorChoice>().unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid colour choice `yes`: use auto, always or never"
        );
    }

    #[test]
    fn resolve_color_follows_no_color_convention() {
        use ColorChoice::*;
        let cases = [
            (Auto, true, None, true),
            (Auto, true, Some(""), true),
            (Auto, true, Some("1"), false),
            (Auto, true, Some("0"), false),
            (Auto, false, None, false),
            (Always, false, None, true),
            (Always, true, Some("1"), true),
            (Never, true, None, false),
            (Never, false, Some(""), false),
        ];
        for (choice, tty, env, expected) in cases {
            assert_eq!(
                resolve_color(choice, tty, env),
                expected,
                "{choice} tty={tty} NO_COLOR={env:?}"
            );
        }
    }

    #[test]
    fn paint_respects_color_flag() {
        let style = Style::new().bold();
        assert_eq!(Theme::plain(80).paint("x", style), "x");
        assert!(Theme::new(true, 80).paint("x", style).contains('\u{1b}'));
        assert_eq!(Theme::new(true, 80).paint("", style), "");
    }
}
