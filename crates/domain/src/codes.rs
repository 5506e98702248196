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
    };
}
