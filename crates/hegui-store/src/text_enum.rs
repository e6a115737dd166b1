//! [`text_enum!`]: a closed set of names stored as text (a state, a kind), with its stored name,
//! parsing with an error that lists the allowed names, serde and an OpenAPI schema under the
//! same names, and reading from a database row (`#[sqlx(try_from = "String")]`).

/// Declares a text enum; see the module docs.
macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        pub enum $name { $($(#[$vm])* #[serde(rename = $text)] $variant),* }
        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            /// The stored name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl std::str::FromStr for $name {
            type Err = $crate::StoreError;
            fn from_str(s: &str) -> Result<Self, $crate::StoreError> {
                match s {
                    $($text => Ok($name::$variant),)*
                    _ => Err($crate::StoreError::Invalid {
                        what: stringify!($name),
                        reason: format!("`{s}` is not one of {}", [$($text),*].join(", ")),
                    }),
                }
            }
        }
        impl TryFrom<String> for $name {
            type Error = $crate::StoreError;
            fn try_from(s: String) -> Result<Self, $crate::StoreError> {
                s.parse()
            }
        }
    };
}
pub(crate) use text_enum;
