//! Extractors that fail with problem+json: JSON bodies, query strings, paths, and the caller.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;

use super::error::{ApiError, FieldError};
use crate::domain::access::Actor;
use crate::domain::text::NUL_IN_TEXT;
use crate::services::auth;
use crate::services::tokens::BearerToken;
use crate::state::AppState;

/// A JSON body whose failures are problem documents. A value of the wrong type or an unknown
/// enum value is a 422 naming the field (`citizen.language`), like any other invalid field, and so
/// is a string holding U+0000 (NUL) anywhere in the body; broken JSON is a 400, a missing or other
/// content type a 415. Every body is a JSON object: any other JSON value (`[]`, `"x"`, `null`) is a
/// 422 at `body` saying so, an array too where its items would fill the fields in order (as serde
/// would take it). No message names a Rust type.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ApiJsonBody(value, _) = ApiJsonBody::from_request(req, state).await?;
        Ok(Self(value))
    }
}

/// [`ApiJson`] with the body's bytes as sent (for a digest of the request).
#[derive(Debug)]
pub struct ApiJsonBody<T>(pub T, pub Bytes);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "expected a request with `Content-Type: application/json`",
            ));
        }
        let bytes = Bytes::from_request(req, state).await?;
        if !is_object(&bytes) && serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_ok() {
            return Err(ApiError::validation(vec![FieldError {
                field: "body".to_owned(),
                message: EXPECTED_OBJECT.to_owned(),
            }]));
        }
        let mut json = serde_json::Deserializer::from_slice(&bytes);
        let malformed = |err: &serde_json::Error| {
            ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", format!("the body is not valid JSON: {err}"))
        };
        match serde_path_to_error::deserialize(&mut json) {
            Ok(value) => {
                json.end().map_err(|err| malformed(&err))?;
                match nul_fields(&bytes) {
                    Some(errors) => Err(ApiError::validation(errors)),
                    None => Ok(Self(value, bytes)),
                }
            }
            Err(err) if err.inner().is_data() => {
                Err(ApiError::validation(vec![field_error(err.path(), without_position(err.inner()))]))
            }
            Err(err) => Err(malformed(err.inner())),
        }
    }
}

/// A JSON body in one form whatever its spacing and the order of its members (sorted keys,
/// `serde_json`'s own number forms): two requests for the same thing have the same canonical
/// body. `None` for a body that is no JSON (not reached after [`ApiJsonBody`] parsed it).
pub fn canonical_json(bytes: &[u8]) -> Option<Vec<u8>> {
    // serde_json's map is a BTreeMap (the `preserve_order` feature is off): keys come out sorted.
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    serde_json::to_vec(&value).ok()
}

/// A query string whose failures are 400 problem documents naming the parameter.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        if let Some((name, _)) = form_urlencoded::parse(query.as_bytes()).find(|(_, value)| value.contains('\0')) {
            let field = crate::domain::text::one_line(&name);
            return Err(invalid_query(FieldError { field, message: NUL_IN_TEXT.to_owned() }));
        }
        let params = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(params)
            .map(Self)
            .map_err(|err| invalid_query(field_error(err.path(), err.inner().to_string())))
    }
}

fn invalid_query(problem: FieldError) -> ApiError {
    let detail = format!("query parameter {}: {}", problem.field, problem.message);
    ApiError::Problem { status: StatusCode::BAD_REQUEST, code: "invalid_query".into(), detail, errors: vec![problem] }
}

/// The fields of a JSON body whose strings hold U+0000, which no keyboard types and PostgreSQL
/// cannot store; `None` when there are none. JSON can carry it only as the escape `\u0000`, so a
/// body without that text is passed over without a second parse.
fn nul_fields(body: &[u8]) -> Option<Vec<FieldError>> {
    fn walk(value: &serde_json::Value, path: &str, found: &mut Vec<FieldError>) {
        let at = |key: &str| if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") };
        match value {
            serde_json::Value::String(text) if text.contains('\0') => {
                let field = if path.is_empty() { "body".to_owned() } else { path.to_owned() };
                found.push(FieldError { field, message: NUL_IN_TEXT.to_owned() });
            }
            serde_json::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(item, &format!("{path}[{i}]"), found);
                }
            }
            serde_json::Value::Object(fields) => {
                for (key, item) in fields {
                    walk(item, &at(&crate::domain::text::one_line(key)), found);
                }
            }
            _ => {}
        }
    }
    if !body.windows(6).any(|w| w == b"\\u0000") {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let mut found = Vec::new();
    walk(&value, "", &mut found);
    (!found.is_empty()).then_some(found)
}

/// `application/json` or any `application/*+json`, parameters ignored.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// What a value that should be a JSON object but is not is told.
const EXPECTED_OBJECT: &str = "expected a JSON object";

/// Whether a body's first JSON token opens an object (an empty body is left to the parser).
fn is_object(body: &[u8]) -> bool {
    body.iter().find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r')).is_none_or(|b| *b == b'{')
}

/// serde_json's message without its " at line 1 column 42" suffix.
fn without_position(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    text.strip_suffix(&suffix).map_or_else(|| text.clone(), str::to_owned)
}

/// The field a deserialisation error is about, and what is wrong with it in words without Rust
/// type names.
///
/// A missing field is reported by serde at its parent's path, so its name is taken from the
/// message. An unknown field's key is tracked as it is read, so the path already ends with it; a
/// type that refuses it only after reading the whole object (its own `Deserialize`, a flattened
/// struct) reports it at the parent's path, and then the name is added once.
fn field_error(path: &serde_path_to_error::Path, message: String) -> FieldError {
    let at = path.to_string();
    let at = if at == "." { String::new() } else { at };
    let child = |name: &str| if at.is_empty() { name.to_owned() } else { format!("{at}.{name}") };
    let named = |prefix: &str| message.strip_prefix(prefix).and_then(|rest| rest.split('`').next());
    if let Some(name) = named("missing field `") {
        return FieldError { field: child(name), message: "is required".to_owned() };
    }
    if let Some(name) = named("unknown field `") {
        let ends_with_it = matches!(path.iter().next_back(), Some(Segment::Map { key }) if key == name);
        let field = if ends_with_it { at.clone() } else { child(name) };
        return FieldError { field, message };
    }
    // serde's "invalid type: string \"x\", expected struct CitizenInput" (or "invalid length 0,
    // expected struct CitizenInput with 3 elements" for an array) names a type of ours.
    let message = if message.contains("expected struct ") { EXPECTED_OBJECT.to_owned() } else { in_words(message) };
    let field = if at.is_empty() { "body".to_owned() } else { at };
    FieldError { field, message }
}

/// serde's "invalid type: string \"x\", expected i32" or "invalid value: integer `-1`, expected
/// u16" with the Rust number type at its end said in words a client's author reads without Rust:
/// "expected a whole number from -2147483648 to 2147483647". Other messages are kept.
fn in_words(message: String) -> String {
    let Some((head, expected)) = message.rsplit_once(", expected ") else { return message };
    let range = |min: i128, max: i128| format!("a whole number from {min} to {max}");
    let words = match expected {
        "u8" => range(0, u8::MAX.into()),
        "u16" => range(0, u16::MAX.into()),
        "u32" => range(0, u32::MAX.into()),
        "u64" | "usize" => range(0, u64::MAX.into()),
        "i8" => range(i8::MIN.into(), i8::MAX.into()),
        "i16" => range(i16::MIN.into(), i16::MAX.into()),
        "i32" => range(i32::MIN.into(), i32::MAX.into()),
        "i64" | "isize" => range(i64::MIN.into(), i64::MAX.into()),
        "f32" | "f64" => "a number".to_owned(),
        "char" => "a single character".to_owned(),
        _ => return message,
    };
    format!("{head}, expected {words}")
}

/// `axum::extract::Path` whose rejections are problem documents.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// The staff member behind the request's `Authorization: Bearer TOKEN`.
#[derive(Debug, Clone)]
pub struct Auth(pub Actor);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Bearer::from_request_parts(parts, state).await.map(|bearer| Self(bearer.actor))
    }
}

/// The staff member behind the request's bearer token, and that token (its id and expiry), for
/// what depends on the token itself (a token made with it lives no longer).
#[derive(Debug, Clone)]
pub struct Bearer {
    pub actor: Actor,
    pub token: BearerToken,
}

impl FromRequestParts<AppState> for Bearer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let client = crate::web::ClientIp::from_request_parts(parts, state).await.ok().and_then(|ip| ip.addr());
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(bearer_token)
            .ok_or_else(ApiError::unauthorized)?;
        match auth::authenticate_token(&state.db, &state.tokens, token).await? {
            Some((actor, token)) => Ok(Self { actor: actor.with_client(client), token }),
            None => Err(ApiError::unauthorized()),
        }
    }
}

/// The token of an `Authorization` value `Bearer TOKEN`; the scheme's name in any case, as RFC
/// 9110 (11.1) has it (`bearer TOKEN` was refused).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim_start().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_read_in_any_case() {
        for value in ["Bearer abc", "bearer abc", "BEARER  abc ", "Bearer abc"] {
            assert_eq!(bearer_token(value), Some("abc"), "{value:?}");
        }
        for value in ["Basic abc", "Bearer", "Bearer  ", "Bearerabc", ""] {
            assert_eq!(bearer_token(value), None, "{value:?}");
        }
    }

    fn fields(body: &str) -> Option<Vec<String>> {
        nul_fields(body.as_bytes()).map(|found| found.into_iter().map(|e| e.field).collect())
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only deserialised")]
    struct Outer {
        inner: Inner,
        other: Option<bool>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only deserialised")]
    struct Inner {
        name: String,
    }

    /// An object refusing an unknown member only after reading it whole (like a flattened struct).
    #[derive(Debug)]
    struct Late;

    impl<'de> serde::Deserialize<'de> for Late {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            let map = serde_json::Map::deserialize(deserializer)?;
            match map.keys().next() {
                Some(key) => Err(serde::de::Error::unknown_field(key, &[])),
                None => Ok(Self),
            }
        }
    }

    fn error_of<T: DeserializeOwned + std::fmt::Debug>(body: &str) -> (String, String) {
        let mut json = serde_json::Deserializer::from_str(body);
        let err = serde_path_to_error::deserialize::<_, T>(&mut json).expect_err("refused");
        let found = field_error(err.path(), without_position(err.inner()));
        (found.field, found.message)
    }

    #[test]
    fn an_unknown_field_is_named_once_and_a_missing_one_at_its_own_path() {
        let field = |body: &str| error_of::<Outer>(body).0;
        assert_eq!(field(r#"{"inner": {"name": "a"}, "emailConsent": true}"#), "emailConsent");
        assert_eq!(field(r#"{"inner": {"name": "a", "mail": "x"}}"#), "inner.mail");
        assert_eq!(field(r#"{"inner": {"name": "a", "inner": 1}}"#), "inner.inner");
        assert_eq!(field(r#"{"other": true}"#), "inner");
        assert_eq!(error_of::<Outer>(r#"{"inner": {}}"#), ("inner.name".to_owned(), "is required".to_owned()));
        assert_eq!(error_of::<Late>(r#"{"late": 1}"#).0, "late");
    }

    #[test]
    fn a_value_that_should_be_an_object_is_told_so_without_a_type_name() {
        for body in [r#"{"inner": []}"#, r#"{"inner": "a"}"#, r#"{"inner": 1}"#] {
            assert_eq!(error_of::<Outer>(body), ("inner".to_owned(), EXPECTED_OBJECT.to_owned()), "{body}");
        }
        assert_eq!(error_of::<Outer>("[]"), ("body".to_owned(), EXPECTED_OBJECT.to_owned()));
        assert!(!is_object(b" [] ") && !is_object(b"null") && is_object(b"\n {") && is_object(b""));
    }

    #[derive(Debug, serde::Deserialize)]
    #[expect(dead_code, reason = "only deserialised")]
    struct Numbers {
        seats: Option<u16>,
        minutes: Option<i32>,
        share: Option<f64>,
    }

    #[test]
    fn a_number_of_the_wrong_kind_or_size_is_told_without_a_rust_type() {
        let message = |body: &str| error_of::<Numbers>(body).1;
        assert_eq!(message(r#"{"seats": -1}"#), "invalid value: integer `-1`, expected a whole number from 0 to 65535");
        assert_eq!(
            message(r#"{"minutes": "30"}"#),
            r#"invalid type: string "30", expected a whole number from -2147483648 to 2147483647"#
        );
        assert_eq!(
            message(r#"{"minutes": 1.5}"#),
            "invalid type: floating point `1.5`, expected a whole number from -2147483648 to 2147483647"
        );
        assert_eq!(message(r#"{"share": true}"#), "invalid type: boolean `true`, expected a number");
        // A message that names no Rust type is kept as it is.
        assert_eq!(
            in_words("invalid type: null, expected a string".to_owned()),
            "invalid type: null, expected a string"
        );
    }

    #[test]
    fn nul_is_found_in_any_string_by_its_path() {
        assert_eq!(fields(r#"{"a": {"b": "x\u0000"}, "c": ["ok", "\u0000"], "d": 1}"#).unwrap(), ["a.b", "c[1]"]);
        assert_eq!(fields(r#""\u0000""#).unwrap(), ["body"]);
        assert_eq!(fields(r#"{"a": "no nul here"}"#), None);
        // An escaped backslash before `u0000` is text; so is a key (never stored as such).
        assert_eq!(fields(r#"{"a": "C:\\u0000", "\u0000": 1}"#), None);
    }
}
