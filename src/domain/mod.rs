//! The types both sides share: what the server decides and the UI shows.
//! Compiled for the server and the browser alike; no I/O, no server-only
//! crates (the database mappings are `cfg(feature = "ssr")` attributes).

pub mod accounts;
pub mod events;
pub mod integrations;
pub mod problems;
pub mod projects;
pub mod system;
pub mod tasks;

/// Gives an enum its one spelling: `as_str` and `parse`. `stored` ones (states
/// kept in the database, spelled there as on the wire) also get sqlx's `Type`,
/// `Encode` and `Decode` over text (on the server), so a column reads as
/// `state AS "state: InstallationState"` and a value the enum does not know is
/// an error, never a default.
macro_rules! spelled {
    ($type:ty { $($variant:ident = $text:literal),+ $(,)? }) => {
        impl $type {
            pub const ALL: &[Self] = &[$(Self::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some(Self::$variant),)+ _ => None }
            }
        }
    };
    (stored $type:ty { $($variant:ident = $text:literal),+ $(,)? }) => {
        spelled!($type { $($variant = $text),+ });

        #[cfg(feature = "ssr")]
        impl sqlx::Type<sqlx::Postgres> for $type {
            fn type_info() -> sqlx::postgres::PgTypeInfo {
                <&str as sqlx::Type<sqlx::Postgres>>::type_info()
            }

            fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
                <&str as sqlx::Type<sqlx::Postgres>>::compatible(ty)
            }
        }

        #[cfg(feature = "ssr")]
        impl sqlx::Encode<'_, sqlx::Postgres> for $type {
            fn encode_by_ref(
                &self,
                buf: &mut sqlx::postgres::PgArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&str as sqlx::Encode<sqlx::Postgres>>::encode(self.as_str(), buf)
            }
        }

        #[cfg(feature = "ssr")]
        impl sqlx::Decode<'_, sqlx::Postgres> for $type {
            fn decode(value: sqlx::postgres::PgValueRef<'_>) -> Result<Self, sqlx::error::BoxDynError> {
                let text = <&str as sqlx::Decode<sqlx::Postgres>>::decode(value)?;
                Self::parse(text).ok_or_else(|| format!("{text:?} is no {}", stringify!($type)).into())
            }
        }
    };
}
pub(crate) use spelled;
