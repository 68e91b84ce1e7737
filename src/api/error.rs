//! The one error type server functions return: what went wrong, in words a
//! person can act on, with the HTTP status it maps to.

use leptos::server_fn::{
    codec::PostcardEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Sign in to continue.")]
    Unauthorized,
    /// Also what someone gets for a page they may not see: no hint it exists.
    #[error("There is nothing here.")]
    NotFound,
    /// Known to the person, but not theirs to change.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooManyAttempts(String),
    /// Something forgelink depends on (GitHub) did not answer.
    #[error("{0}")]
    Unavailable(String),
    #[error("Something went wrong on our side. Try again in a moment.")]
    Internal,
    /// The request never reached the server function, or its answer was unreadable.
    #[error("The server could not be reached: {0}")]
    Transport(String),
}

impl AppError {
    pub fn status(&self) -> u16 {
        match self {
            Self::Unauthorized => 401,
            Self::Forbidden(_) => 403,
            Self::NotFound => 404,
            Self::Invalid(_) => 422,
            Self::Conflict(_) => 409,
            Self::TooManyAttempts(_) => 429,
            Self::Unavailable(_) => 503,
            Self::Internal | Self::Transport(_) => 500,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = PostcardEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        Self::Transport(value.to_string())
    }
}
