//! A response as the layer records it (status, the headers worth replaying, the body bytes),
//! how it is read off the inner service within the body limit, and how it is answered again.

use std::pin::Pin;

use bytes::{Bytes, BytesMut};
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Response, StatusCode};
use http_body::Body;
use http_body_util::BodyExt;
use serde::{Deserialize, Serialize};

use super::body::{BoxError, ResponseBody};

/// The header a replay carries (the IETF draft's and Stripe's).
pub const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";

/// A recorded response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Recorded {
    status: u16,
    headers: Vec<(String, RawBytes)>,
    body: RawBytes,
    /// Every header the inner service sent, for the first answer only (which is answered as
    /// the service did); never stored, so a replay has only the recorded ones.
    #[serde(skip)]
    sent: Option<HeaderMap>,
}

/// Bytes serialized as bytes (serde's default for `Vec<u8>` is a sequence of numbers).
#[derive(Debug, Clone, PartialEq, Eq)]
struct RawBytes(Vec<u8>);

impl Serialize for RawBytes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for RawBytes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = RawBytes;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E>(self, bytes: &[u8]) -> Result<RawBytes, E> {
                Ok(RawBytes(bytes.to_vec()))
            }
            fn visit_byte_buf<E>(self, bytes: Vec<u8>) -> Result<RawBytes, E> {
                Ok(RawBytes(bytes))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<RawBytes, A::Error> {
                let mut bytes = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
                while let Some(byte) = seq.next_element()? {
                    bytes.push(byte);
                }
                Ok(RawBytes(bytes))
            }
        }
        deserializer.deserialize_byte_buf(Visitor)
    }
}

/// What became of the inner service's response.
pub(crate) enum Captured<B> {
    /// Read whole, within the limit: record it.
    Recorded(Recorded),
    /// Not to be recorded (the policy, the limit, or a body error): answer it as it is, the
    /// part already read first.
    PassThrough {
        response: Response<ResponseBody<B>>,
        why: PassThrough,
    },
}

/// Why a response was not recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PassThrough {
    /// The recording policy releases the key on this status.
    Status,
    /// The body is longer than the limit.
    TooLarge,
    /// The body failed while it was read.
    BodyError,
}

/// Reads `response` for recording if `record`, keeping only `replayable` headers in the
/// record; gives up past `limit` bytes of body.
pub(crate) async fn capture<B>(
    response: Response<B>,
    record: bool,
    limit: usize,
    replayable: &[HeaderName],
) -> Captured<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let (parts, body) = response.into_parts();
    let mut body = Box::pin(body);
    if !record {
        return pass_through(parts, Bytes::new(), body, PassThrough::Status);
    }
    let mut read = BytesMut::new();
    loop {
        match body.as_mut().frame().await {
            None => break,
            Some(Ok(frame)) => {
                // Trailers are not replayed; a response that sends them is rare and they end
                // the body.
                if let Ok(data) = frame.into_data() {
                    if read.len() + data.len() > limit {
                        read.extend_from_slice(&data);
                        return pass_through(parts, read.freeze(), body, PassThrough::TooLarge);
                    }
                    read.extend_from_slice(&data);
                }
            }
            Some(Err(_)) => {
                // The client gets what was read; the error ends its body as an empty rest.
                return pass_through(parts, read.freeze(), body, PassThrough::BodyError);
            }
        }
    }
    let headers = parts
        .headers
        .iter()
        .filter(|(name, _)| replayable.contains(name))
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                RawBytes(value.as_bytes().to_vec()),
            )
        })
        .collect();
    Captured::Recorded(Recorded {
        status: parts.status.as_u16(),
        headers,
        body: RawBytes(read.to_vec()),
        sent: Some(parts.headers),
    })
}

fn pass_through<B>(
    parts: http::response::Parts,
    prefix: Bytes,
    rest: Pin<Box<B>>,
    why: PassThrough,
) -> Captured<B> {
    Captured::PassThrough {
        response: Response::from_parts(parts, ResponseBody::streamed(prefix, rest)),
        why,
    }
}

impl Recorded {
    /// The response: as the service sent it, on the first answer; the recorded status,
    /// headers and body with `Idempotent-Replayed: true`, on a replay. A recorded header that
    /// no longer parses (a corrupt record) is left out rather than failing.
    pub(crate) fn into_response<B>(self, replayed: bool) -> Response<ResponseBody<B>> {
        let mut response = Response::new(ResponseBody::bytes(Bytes::from(self.body.0)));
        *response.status_mut() =
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if let (Some(sent), false) = (self.sent, replayed) {
            *response.headers_mut() = sent;
            return response;
        }
        let headers = response.headers_mut();
        for (name, value) in self.headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_bytes(&value.0),
            ) {
                headers.append(name, value);
            }
        }
        if replayed {
            headers.insert(
                HeaderName::from_static(IDEMPOTENT_REPLAYED),
                HeaderValue::from_static("true"),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::Full;

    fn response(body: impl Into<Bytes>) -> Response<Full<Bytes>> {
        Response::builder()
            .status(201)
            .header("content-type", "application/json")
            .header("location", "/route-tables/rtb-1")
            .header("set-cookie", "session=secret")
            .body(Full::new(body.into()))
            .expect("a valid response")
    }

    fn replayable() -> Vec<HeaderName> {
        vec![http::header::CONTENT_TYPE, http::header::LOCATION]
    }

    async fn body_of<B: Body<Data = Bytes>>(body: B) -> Bytes
    where
        B::Error: std::fmt::Debug,
    {
        body.collect().await.expect("body").to_bytes()
    }

    #[tokio::test]
    async fn a_recorded_response_replays_status_chosen_headers_and_body() {
        let Captured::Recorded(recorded) =
            capture(response("{\"id\":1}"), true, 1024, &replayable()).await
        else {
            panic!("expected a record");
        };
        let first = recorded.clone().into_response::<Full<Bytes>>(false);
        assert_eq!(
            first.headers()["set-cookie"],
            "session=secret",
            "answered as sent"
        );
        assert!(first.headers().get(IDEMPOTENT_REPLAYED).is_none());
        let replay = recorded.into_response::<Full<Bytes>>(true);
        assert_eq!(replay.status(), 201);
        assert_eq!(replay.headers()["content-type"], "application/json");
        assert_eq!(replay.headers()["location"], "/route-tables/rtb-1");
        assert!(replay.headers().get("set-cookie").is_none());
        assert_eq!(replay.headers()[IDEMPOTENT_REPLAYED], "true");
        assert_eq!(body_of(replay.into_body()).await, "{\"id\":1}");
    }

    #[tokio::test]
    async fn a_body_over_the_limit_passes_through_whole() {
        let text = "0123456789".repeat(10);
        let Captured::PassThrough { response, why } =
            capture(response(text.clone()), true, 50, &replayable()).await
        else {
            panic!("expected a pass-through");
        };
        assert_eq!(why, PassThrough::TooLarge);
        assert_eq!(response.headers()["set-cookie"], "session=secret");
        assert_eq!(body_of(response.into_body()).await, text);
    }

    #[test]
    fn a_record_round_trips_through_the_output_codec() {
        let recorded = Recorded {
            status: 200,
            headers: vec![("content-type".into(), RawBytes(b"text/plain".to_vec()))],
            body: RawBytes(vec![0, 1, 2, 255]),
            sent: None,
        };
        let codec = crate::codec::Codec::<Recorded, ()>::ok_only(crate::codec::Serde::new());
        let bytes = codec
            .encode(&Ok(recorded.clone()))
            .expect("an Ok is recorded")
            .expect("encodes");
        assert_eq!(
            codec.decode(&bytes).ok().and_then(Result::ok),
            Some(recorded)
        );
    }
}
