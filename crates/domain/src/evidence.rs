//! What evidence (证据材料) may be: the media types a county takes, and the first bytes each
//! must start with when it has a fixed signature, so a file is what its type says.

use crate::text::Text;

/// The media types evidence may have, with their signatures (empty: none checked): scans,
/// photos, documents, recordings.
pub const MEDIA_TYPES: &[(&str, &[&[u8]])] = &[
    ("application/pdf", &[b"%PDF-"]),
    ("image/jpeg", &[b"\xFF\xD8\xFF"]),
    ("image/png", &[b"\x89PNG\r\n\x1a\n"]),
    ("image/gif", &[b"GIF87a", b"GIF89a"]),
    ("image/tiff", &[b"II*\0", b"MM\0*"]),
    ("image/webp", &[b"RIFF"]),
    ("image/heic", &[]),
    ("text/plain", &[]),
    ("application/msword", &[b"\xD0\xCF\x11\xE0"]),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        &[b"PK\x03\x04"],
    ),
    ("application/vnd.ms-excel", &[b"\xD0\xCF\x11\xE0"]),
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &[b"PK\x03\x04"],
    ),
    ("audio/mpeg", &[]),
    ("audio/mp4", &[]),
    ("audio/wav", &[b"RIFF"]),
    ("video/mp4", &[]),
];

/// The media type (without parameters, lowercase) if evidence may have it and `bytes` look like
/// it; otherwise why not (an answer of 415).
pub fn check_media(content_type: Option<&str>, bytes: &[u8]) -> Result<String, Text> {
    let Some(raw) = content_type else {
        return Err(crate::text!(
            "Content-Type: required, one of the evidence types (PDF, JPEG, PNG, …)",
            "Content-Type：必填，应为证据材料的类型之一（PDF、JPEG、PNG 等）"
        ));
    };
    let media = raw
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let Some((_, signatures)) = MEDIA_TYPES.iter().find(|(t, _)| *t == media) else {
        let allowed = MEDIA_TYPES.iter().map(|(t, _)| *t).collect::<Vec<_>>();
        let (en, zh) = (allowed.join(", "), allowed.join("、"));
        return Err(crate::text!(
            "Content-Type: expected one of {en}",
            "Content-Type：应为 {zh} 之一"
        ));
    };
    if !signatures.is_empty() && !signatures.iter().any(|s| bytes.starts_with(s)) {
        return Err(crate::text!(
            "the bytes are not a {media} file (their first bytes do not match the type)",
            "文件内容与声明的类型 {media} 不符"
        ));
    }
    Ok(media)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_type_is_one_of_the_evidence_types_and_the_bytes_look_like_it() {
        assert_eq!(
            check_media(Some("application/pdf; charset=binary"), b"%PDF-1.7 ...")
                .ok()
                .as_deref(),
            Some("application/pdf")
        );
        assert!(check_media(Some("application/pdf"), b"MZ\x90\0").is_err());
        assert!(check_media(Some("application/x-msdownload"), b"MZ").is_err());
        assert!(check_media(None, b"%PDF-").is_err());
        assert!(check_media(Some("text/plain"), "来信内容".as_bytes()).is_ok());
    }
}
