//! `codes!`: a closed set of codes with stable identifiers (stored as TEXT, CHECKed by the
//! schema, used in the API and as message keys).

macro_rules! codes {
    ($(#[$meta:meta])* $name:ident, $field:literal, $err:literal { $($variant:ident = $code:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),* }
            }

            pub fn parse(s: &str) -> Result<Self, FieldError> {
                match s.trim() {
                    $($code => Ok($name::$variant),)*
                    _ => Err(FieldError::new($field, $err)),
                }
            }
        }

        /// The stored code (also what templates and message keys show).
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// Stored rows decode straight into the code (`#[sqlx(try_from = "String")]` in the store).
        impl TryFrom<String> for $name {
            type Error = FieldError;

            fn try_from(s: String) -> Result<Self, FieldError> {
                Self::parse(&s)
            }
        }
    };
}
