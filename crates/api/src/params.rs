//! Query parameters, read so that an error names the parameter and the form it expects, in the
//! caller's language, and never repeats the value given (axum's `Query` names neither).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, Failure};

/// The query string as `T` (`deny_unknown_fields` makes a misspelt parameter an error).
pub struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parse(parts.uri.query().unwrap_or(""))
            .map(Params)
            .map_err(ApiError)
    }
}

/// `query` (without the `?`) as `T`.
pub fn parse<T: DeserializeOwned>(query: &str) -> Result<T, Failure> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        Failure::BadRequest(domain::text::field_error(
            &e.path().to_string(),
            &e.inner().to_string(),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Q {
        status: Option<domain::Status>,
        limit: Option<usize>,
    }

    #[test]
    fn a_bad_parameter_is_named_with_its_expected_form_and_not_echoed() {
        let Err(Failure::BadRequest(t)) = parse::<Q>("status=%E6%9D%A5%E8%AE%BF") else {
            panic!("refused")
        };
        assert!(
            t.en.starts_with("status: expected one of registered, accepted"),
            "{}",
            t.en
        );
        assert!(
            t.zh.starts_with("status：应为 registered、accepted"),
            "{}",
            t.zh
        );
        assert!(!t.en.contains("来访"));
        let Err(Failure::BadRequest(t)) = parse::<Q>("limit=lots") else {
            panic!("refused")
        };
        assert!(t.en.starts_with("limit: "), "{}", t.en);
        assert!(!t.en.contains("lots"), "{}", t.en);
        let Err(Failure::BadRequest(t)) = parse::<Q>("stauts=open") else {
            panic!("refused")
        };
        assert!(
            t.en.starts_with("stauts: unknown field; expected one of status, limit"),
            "{}",
            t.en
        );
        assert!(parse::<Q>("status=closed&limit=5").is_ok());
    }
}
