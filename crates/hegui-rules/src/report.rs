//! Rendering an assessment [`Report`](crate::Report): Markdown, JSON and a self-contained HTML page.
