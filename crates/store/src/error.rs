use shegong_domain::FieldError;

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Absent, or outside the caller's scope: callers cannot tell which, by design.
    #[error("not found")]
    NotFound,
    /// Input that breaks a rule, naming the field.
    #[error("invalid input: {0}")]
    Invalid(#[from] FieldError),
    #[error("database error: {0}")]
    Db(sqlx::Error),
}

/// Unique keys, by a fragment of their constraint name or message, and the field they guard.
/// The one place where database constraint errors become user-facing field errors.
pub const UNIQUE_FIELDS: &[(&str, &str, &str)] = &[
    // Before `uscc`: SQLite names the columns (`host_uscc, receipt_no`).
    ("receipt_no", "receipt_no", "charity.receipt_no_taken"),
    ("username", "username", "user.username_taken"),
    ("uscc", "uscc", "org.uscc_taken"),
    ("token_hash", "token", "token.duplicate"),
    ("reverses_id", "entry_id", "timebank.already_reversed"),
    ("source_kind", "source_id", "timebank.source_used"),
];

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let Some(db) = e.as_database_error() {
            if db.is_unique_violation() {
                let text = format!("{} {}", db.constraint().unwrap_or(""), db.message());
                if let Some((_, field, code)) = UNIQUE_FIELDS
                    .iter()
                    .find(|(needle, _, _)| text.contains(needle))
                {
                    return StoreError::Invalid(FieldError::new(field, code));
                }
            }
            if db.is_foreign_key_violation() {
                return StoreError::Invalid(FieldError::new("reference", "db.missing_reference"));
            }
        }
        match e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            other => StoreError::Db(other),
        }
    }
}
