//! The workforce: staff and their certificates, training, supervision.

pub mod staff;
pub mod supervision;
pub mod training;

use chrono::NaiveDate;
use sqlx::any::{Any, AnyTypeInfo, AnyValueRef};
use sqlx::error::BoxDynError;
use sqlx::{Decode, Type};

/// A date column as both schemas store it (TEXT 'YYYY-MM-DD'), read as a date: rows carry
/// `#[sqlx(try_from = "DateColumn")]` on a `NaiveDate` field. (`Any` has no date type, and
/// `NaiveDate` cannot take a `TryFrom<String>` here, hence the go-between.)
pub struct DateColumn(NaiveDate);

/// The same for a nullable date column (`Option<NaiveDate>` fields).
pub struct OptionalDateColumn(Option<NaiveDate>);

fn parse_stored(text: &str) -> Result<NaiveDate, BoxDynError> {
    Ok(NaiveDate::parse_from_str(text, "%Y-%m-%d")?)
}

impl Type<Any> for DateColumn {
    fn type_info() -> AnyTypeInfo {
        <String as Type<Any>>::type_info()
    }
}

impl<'r> Decode<'r, Any> for DateColumn {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <String as Decode<'r, Any>>::decode(value)?;
        Ok(Self(parse_stored(&text)?))
    }
}

impl From<DateColumn> for NaiveDate {
    fn from(column: DateColumn) -> Self {
        column.0
    }
}

impl Type<Any> for OptionalDateColumn {
    fn type_info() -> AnyTypeInfo {
        <String as Type<Any>>::type_info()
    }
}

impl<'r> Decode<'r, Any> for OptionalDateColumn {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <Option<String> as Decode<'r, Any>>::decode(value)?;
        Ok(Self(text.as_deref().map(parse_stored).transpose()?))
    }
}

impl From<OptionalDateColumn> for Option<NaiveDate> {
    fn from(column: OptionalDateColumn) -> Self {
        column.0
    }
}
