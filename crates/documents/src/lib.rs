//! Printing a bureau's documents as PDF: an A4 page with a title, a document number, the
//! addressee, paragraphs and the issuer, in a CJK font embedded as a subset with its Unicode map,
//! so the text can be searched, copied and read back (`pdftotext`).
//!
//! What a document states is the caller's (the API's): this crate knows pages of text, not cases.
//! It must never: read a case, decide a number, or look up a font anywhere but the path it was
//! given and the known system paths ([`CANDIDATES`]).

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use krilla::geom::Point;
use krilla::page::PageSettings;
use krilla::text::{Font, TextDirection};
use krilla::Document;

/// Where a CJK font is found on a machine when none is configured, in order: Debian's
/// `fonts-noto-cjk` (the Simplified Chinese face of its collections is index 2), WenQuanYi,
/// Droid Sans Fallback.
pub const CANDIDATES: [(&str, u32); 5] = [
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    (
        "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
        0,
    ),
];

/// One document: what it says, top to bottom.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    /// The issuing unit's name, above the title.
    pub issuer: String,
    /// 受理告知书, …
    pub title: String,
    /// The document number (文号), under the title.
    pub number: String,
    /// Whom it is addressed to (`张三：`), when anyone.
    pub addressee: Option<String>,
    pub paragraphs: Vec<String>,
    /// Labelled facts (案件编号, dates), one per line after the paragraphs.
    pub facts: Vec<(String, String)>,
    /// The date it is dated, under the issuer at the foot.
    pub date: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    /// No font with CJK glyphs could be read: the documents cannot be printed on this machine.
    #[error("no CJK font: {0}")]
    NoFont(String),
    #[error("the PDF could not be written: {0}")]
    Pdf(String),
}

/// Prints pages with one font, read from disk on first use and kept.
pub struct Printer {
    configured: Option<(PathBuf, u32)>,
    font: OnceLock<Result<(Font, PathBuf), String>>,
}

impl Printer {
    /// A printer with the font at `font` (face `index` of a collection), or, when `None`, the
    /// first of [`CANDIDATES`] that can be read.
    pub fn new(font: Option<(PathBuf, u32)>) -> Printer {
        Printer {
            configured: font,
            font: OnceLock::new(),
        }
    }

    /// The font file in use, or why there is none (reads it on first use).
    pub fn font_path(&self) -> Result<&Path, PrintError> {
        self.font()
            .map(|(_, p)| p.as_path())
            .map_err(|e| PrintError::NoFont(e.clone()))
    }

    fn font(&self) -> Result<&(Font, PathBuf), &String> {
        self.font
            .get_or_init(|| match &self.configured {
                Some((path, index)) => load(path, *index),
                None => CANDIDATES
                    .iter()
                    .find_map(|(p, i)| load(Path::new(p), *i).ok())
                    .ok_or_else(|| {
                        let paths: Vec<&str> = CANDIDATES.iter().map(|(p, _)| *p).collect();
                        format!(
                            "none of {} can be read; install fonts-noto-cjk or set [documents] font",
                            paths.join(", ")
                        )
                    }),
            })
            .as_ref()
    }

    /// The page as a PDF.
    pub fn print(&self, page: &Page) -> Result<Vec<u8>, PrintError> {
        let (font, _) = self.font().map_err(|e| PrintError::NoFont(e.clone()))?;
        let mut document = Document::new();
        let settings =
            PageSettings::from_wh(A4.0, A4.1).ok_or_else(|| PrintError::Pdf("page size".into()))?;
        let mut pdf_page = document.start_page_with(settings);
        let mut surface = pdf_page.surface();
        let mut y = TOP;
        let mut line = |text: &str, size: f32, x: f32, y: &mut f32| {
            *y += size * 1.6;
            surface.draw_text(
                Point::from_xy(x, *y),
                font.clone(),
                size,
                text,
                false,
                TextDirection::Auto,
            );
        };
        line(&page.issuer, 16.0, centred(&page.issuer, 16.0), &mut y);
        line(&page.title, 22.0, centred(&page.title, 22.0), &mut y);
        y += 6.0;
        line(&page.number, 12.0, centred(&page.number, 12.0), &mut y);
        y += 18.0;
        if let Some(to) = &page.addressee {
            line(to, BODY, LEFT, &mut y);
        }
        for paragraph in &page.paragraphs {
            // The first line indented by two characters, as official documents are.
            let indented = format!("\u{3000}\u{3000}{paragraph}");
            for l in wrap(&indented, BODY, A4.0 - LEFT - RIGHT) {
                line(&l, BODY, LEFT, &mut y);
            }
            y += BODY * 0.4;
        }
        y += BODY;
        for (label, value) in &page.facts {
            for l in wrap(&format!("{label}：{value}"), BODY, A4.0 - LEFT - RIGHT) {
                line(&l, BODY, LEFT, &mut y);
            }
        }
        y += BODY * 2.0;
        let right = |s: &str| A4.0 - RIGHT - width(s, BODY);
        line(&page.issuer, BODY, right(&page.issuer), &mut y);
        line(&page.date, BODY, right(&page.date), &mut y);
        surface.finish();
        pdf_page.finish();
        document
            .finish()
            .map_err(|e| PrintError::Pdf(format!("{e:?}")))
    }
}

/// A4 in points.
const A4: (f32, f32) = (595.0, 842.0);
const LEFT: f32 = 72.0;
const RIGHT: f32 = 72.0;
const TOP: f32 = 60.0;
const BODY: f32 = 12.0;

fn load(path: &Path, index: u32) -> Result<(Font, PathBuf), String> {
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let font = Font::new(Arc::new(data).into(), index)
        .ok_or_else(|| format!("{}: face {index} is no font krilla reads", path.display()))?;
    Ok((font, path.to_owned()))
}

/// The width of `text` at `size`, as set: full-width characters an em, others about half.
fn width(text: &str, size: f32) -> f32 {
    text.chars()
        .map(|c| if c.is_ascii() { 0.55 } else { 1.0 })
        .sum::<f32>()
        * size
}

fn centred(text: &str, size: f32) -> f32 {
    ((A4.0 - width(text, size)) / 2.0).max(LEFT)
}

/// Punctuation that never begins a line (行首禁则): it hangs at the end of the line before.
const NO_LINE_START: &str = "，。、；：！？）》」』”’,.;:!?)";

/// `text` broken into lines no wider than `max` at `size` (at any character: Chinese breaks
/// between characters; a long run of Latin letters is broken too, never lost), punctuation that
/// closes hanging past the margin rather than beginning a line.
fn wrap(text: &str, size: f32, max: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for hard in text.split('\n') {
        let mut current = String::new();
        for c in hard.chars() {
            let mut next = current.clone();
            next.push(c);
            let hangs = NO_LINE_START.contains(c);
            if width(&next, size) > max && !current.is_empty() && !hangs {
                lines.push(std::mem::take(&mut current));
                current.push(c);
            } else {
                current = next;
            }
        }
        lines.push(current);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_wrapped_without_losing_a_character() {
        let text = "经核查，".repeat(40) + "abcdefghijklmnopqrstuvwxyz".repeat(5).as_str();
        let lines = wrap(&text, BODY, 300.0);
        assert!(lines.len() > 3);
        // Within the margin, but for one hanging mark of punctuation.
        assert!(lines.iter().all(|l| width(l, BODY) <= 300.0 + BODY));
        assert!(lines.iter().all(|l| !l.starts_with('，')), "{lines:?}");
        assert_eq!(lines.concat(), text);
    }

    #[test]
    fn a_missing_font_is_said_not_panicked() {
        let p = Printer::new(Some(("/nonexistent/font.ttc".into(), 0)));
        assert!(matches!(
            p.print(&Page::default()),
            Err(PrintError::NoFont(_))
        ));
    }
}
