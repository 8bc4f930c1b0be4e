//! An image the HTML part shows: sent as an inline MIME part and referred to by its
//! Content-ID (`<img src="cid:…">`), since Gmail shows no `data:` URIs and no SVG.

/// One inline image of a rendered report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// The Content-ID without angle brackets, as the HTML names it after `cid:`.
    pub cid: String,
    /// A MIME type mail clients show inline: `image/png`.
    pub content_type: String,
    pub bytes: Vec<u8>,
}
