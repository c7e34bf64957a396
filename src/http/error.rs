//! `ApiError`: every failure as RFC 9457 `application/problem+json` with a stable `code`.
//! Status codes are chosen here and nowhere else.

use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::services::ServiceError;

/// The result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

/// One failing field of a request.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldError {
    /// Path of the field, e.g. `citizen.email`.
    pub field: String,
    pub message: String,
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable, snake_case machine-readable code such as `slot_taken`.
    pub code: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// An error that becomes a problem response.
#[derive(Debug)]
pub enum ApiError {
    Problem {
        status: StatusCode,
        code: String,
        detail: String,
        errors: Vec<FieldError>,
    },
    /// A 503 (overloaded) or 429 (throttled) telling the client when to try again
    /// (`Retry-After`, seconds).
    RetryLater {
        status: StatusCode,
        code: &'static str,
        detail: String,
        retry_after_secs: u64,
    },
    /// Logged once at this boundary; the client gets a generic 500.
    Internal(anyhow::Error),
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        Self::Problem { status, code: code.to_owned(), detail: detail.into(), errors: Vec::new() }
    }

    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", "a valid bearer token is required")
    }

    pub fn not_found(code: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, detail)
    }

    /// A 422 naming each failing field.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ");
        Self::Problem { status: StatusCode::UNPROCESSABLE_ENTITY, code: "validation_failed".into(), detail, errors }
    }

    /// A 422 for one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError { field: field.to_owned(), message: message.into() }])
    }
}

fn title(status: StatusCode) -> String {
    status.canonical_reason().unwrap_or("Error").to_owned()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut retry_after = None;
        let (status, problem) = match self {
            Self::Problem { status, code, detail, errors } => (
                status,
                Problem {
                    type_: format!("https://terminbuch.invalid/problems/{code}"),
                    title: title(status),
                    status: status.as_u16(),
                    detail,
                    code,
                    errors,
                },
            ),
            Self::RetryLater { status, code, detail, retry_after_secs } => {
                retry_after = Some(retry_after_secs);
                (
                    status,
                    Problem {
                        type_: format!("https://terminbuch.invalid/problems/{code}"),
                        title: title(status),
                        status: status.as_u16(),
                        detail,
                        code: code.to_owned(),
                        errors: Vec::new(),
                    },
                )
            }
            Self::Internal(err) => {
                tracing::error!(error = ?err, "request failed");
                let status = StatusCode::INTERNAL_SERVER_ERROR;
                (
                    status,
                    Problem {
                        type_: "about:blank".into(),
                        title: title(status),
                        status: status.as_u16(),
                        detail: "an internal error occurred; it has been logged".into(),
                        code: "internal_error".into(),
                        errors: Vec::new(),
                    },
                )
            }
        };
        let mut response = (status, axum::Json(&problem)).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::NotFound(missing) => Self::not_found(missing.code(), missing.to_string()),
            ServiceError::Forbidden => Self::new(StatusCode::FORBIDDEN, "forbidden", err.to_string()),
            ServiceError::NotPermitted(reserved) => {
                Self::new(StatusCode::FORBIDDEN, reserved.code(), reserved.to_string())
            }
            ServiceError::Invalid { field, message } => Self::field(field, message),
            ServiceError::Conflict { clash, message } => Self::new(StatusCode::CONFLICT, clash.code(), message),
            ServiceError::Rule(refusal) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, refusal.code(), refusal.to_string())
            }
            // The database could not write (busy, disk full, a failed shared commit): nothing was
            // stored, and a retry a moment later usually succeeds.
            ServiceError::Busy => {
                let status = StatusCode::SERVICE_UNAVAILABLE;
                Self::RetryLater { status, code: "database_busy", detail: err.to_string(), retry_after_secs: 1 }
            }
            ServiceError::Overloaded { retry_after_secs } => {
                let status = StatusCode::SERVICE_UNAVAILABLE;
                Self::RetryLater { status, code: "overloaded", detail: err.to_string(), retry_after_secs }
            }
            ServiceError::Throttled { retry_after_secs } => {
                let status = StatusCode::TOO_MANY_REQUESTS;
                Self::RetryLater { status, code: "too_many_attempts", detail: err.to_string(), retry_after_secs }
            }
            ServiceError::Store(store) => Self::Internal(store.into()),
        }
    }
}

impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> Self {
        let status = rejection.status();
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE { "payload_too_large" } else { "unreadable_body" };
        Self::new(status, code, rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", rejection.body_text())
    }
}

impl From<garde::Report> for ApiError {
    fn from(report: garde::Report) -> Self {
        Self::validation(field_errors(&report))
    }
}

/// The fields garde refused, named by their path (`citizen.name`).
pub fn field_errors(report: &garde::Report) -> Vec<FieldError> {
    report
        .iter()
        .map(|(path, error)| FieldError { field: path.to_string(), message: error.message().to_owned() })
        .collect()
}
