//! A page of a form and tables (the auditors' and analysts' pages share it).

use askama::Template;

use crate::frame::Frame;

pub struct Cell {
    pub text: String,
    pub href: String,
    /// A button that posts to this console path (with the CSRF token), labelled `text`.
    pub post: String,
    /// The button's form asks for a reason first (a revocation).
    pub reason: bool,
    /// Several links in one cell (`text` unused): (path, label) each.
    pub links: Vec<(String, String)>,
    /// The button's form asks for these first: (name, label) each, all required (a review).
    pub fields: Vec<(String, String)>,
}

impl Cell {
    /// A button posting to `path`; with `reason`, a reason field before it.
    pub fn button(text: impl Into<String>, path: impl Into<String>, reason: bool) -> Cell {
        Cell {
            post: path.into(),
            reason,
            ..Cell::text(text)
        }
    }

    pub fn text(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            href: String::new(),
            post: String::new(),
            reason: false,
            links: Vec::new(),
            fields: Vec::new(),
        }
    }

    /// A button posting to `path` after the text fields `fields` ((name, label) each).
    pub fn form(text: impl Into<String>, path: impl Into<String>, fields: &[(&str, &str)]) -> Cell {
        Cell {
            fields: fields
                .iter()
                .map(|(n, l)| ((*n).to_owned(), (*l).to_owned()))
                .collect(),
            ..Cell::button(text, path, false)
        }
    }

    /// Several links, each (path, label).
    pub fn links(links: Vec<(String, String)>) -> Cell {
        Cell {
            links,
            ..Cell::text("")
        }
    }

    pub fn link(text: impl Into<String>, href: impl Into<String>) -> Cell {
        Cell {
            href: href.into(),
            ..Cell::text(text)
        }
    }
}

pub struct Table {
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

pub struct Input {
    pub name: String,
    pub label: String,
    pub kind: String,
    pub value: String,
    pub options: Vec<(String, String)>,
}

impl Input {
    pub fn text(name: &str, label: &str, value: &str) -> Input {
        Input {
            name: name.into(),
            label: label.into(),
            kind: "text".into(),
            value: value.into(),
            options: Vec::new(),
        }
    }

    pub fn date(name: &str, label: &str, value: &str) -> Input {
        Input {
            kind: "date".into(),
            ..Input::text(name, label, value)
        }
    }

    pub fn select(name: &str, label: &str, value: &str, options: &[(&str, &str)]) -> Input {
        Input {
            kind: "select".into(),
            options: options
                .iter()
                .map(|(v, l)| ((*v).to_owned(), (*l).to_owned()))
                .collect(),
            ..Input::text(name, label, value)
        }
    }
}

#[derive(Template)]
#[template(path = "table.html")]
pub struct TablePage {
    pub f: Frame,
    pub heading: String,
    pub intro: String,
    /// `get` (filters in the URL: nothing personal) or `post`.
    pub form_method: String,
    pub inputs: Vec<Input>,
    pub tables: Vec<Table>,
    /// Links beside the form (a CSV download).
    pub links: Vec<(String, String)>,
    /// Chart data (JSON) for the page's script; empty for none.
    pub charts: String,
    /// The link to the next page of the tables (its path and label); empty for none.
    pub next: (String, String),
}

impl TablePage {
    pub fn new(f: Frame, heading: &str) -> TablePage {
        TablePage {
            f,
            heading: heading.into(),
            intro: String::new(),
            form_method: "get".into(),
            inputs: Vec::new(),
            tables: Vec::new(),
            links: Vec::new(),
            charts: String::new(),
            next: (String::new(), String::new()),
        }
    }
}
