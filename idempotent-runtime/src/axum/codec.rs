//! How `Json<T>` and `(StatusCode, Json<T>)` outputs are recorded: as `T` (and the status
//! code), rebuilt on a replay. The macro picks these by the output's spelling, since axum's
//! `Json` is not itself serde.

use ::axum::Json;
use http::StatusCode;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::codec::{read, read_msgpack, write, Serde};

/// The codec of a `Json<T>` output.
///
/// ```
/// let _ = idempotent_runtime::axum::json::<Vec<String>>();
/// ```
pub fn json<T: Serialize + DeserializeOwned>() -> Serde<Json<T>> {
    Serde::from_fns(
        |bytes, json: &Json<T>| write(bytes, &json.0),
        |bytes| read(bytes).map(Json),
        |bytes| read_msgpack(bytes).map(Json),
    )
}

/// The codec of a `(StatusCode, Json<T>)` output; a recorded status that is not one (a
/// corrupt record) replays as 500.
///
/// ```
/// let _ = idempotent_runtime::axum::status_json::<Vec<String>>();
/// ```
pub fn status_json<T: Serialize + DeserializeOwned>() -> Serde<(StatusCode, Json<T>)> {
    Serde::from_fns(
        |bytes, (status, json): &(StatusCode, Json<T>)| write(bytes, &(status.as_u16(), &json.0)),
        |bytes| read(bytes).map(rebuild),
        |bytes| read_msgpack(bytes).map(rebuild),
    )
}

fn rebuild<T>((status, value): (u16, T)) -> (StatusCode, Json<T>) {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(value))
}
