//! The bodies the layer hands on: the request as buffered (or untouched, when the layer lets
//! it pass), and the response as recorded (or as the inner service streams it, after the part
//! the layer already read).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

/// The error type of the layer's bodies: the inner body's error, boxed.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A body the layer hands on: bytes it read (a buffered request, a recorded or replayed
/// response), or a body still streaming after the part the layer already read (a request it
/// does not handle, a response it does not record).
pub struct LayerBody<B> {
    kind: Kind<B>,
}

/// The request body the inner service receives.
pub type RequestBody<B> = LayerBody<B>;

/// The response body the layer answers with.
pub type ResponseBody<B> = LayerBody<B>;

/// Bytes in hand, or a body still streaming (boxed, so any body works, `Unpin` or not).
enum Kind<B> {
    Bytes(Option<Bytes>),
    Streamed {
        prefix: Option<Bytes>,
        rest: Pin<Box<B>>,
    },
}

impl<B> LayerBody<B> {
    pub(crate) fn bytes(bytes: Bytes) -> Self {
        Self {
            kind: Kind::Bytes(Some(bytes)),
        }
    }

    /// `prefix` (what the layer read before it let the body pass), then the rest of `rest`.
    pub(crate) fn streamed(prefix: Bytes, rest: Pin<Box<B>>) -> Self {
        Self {
            kind: Kind::Streamed {
                prefix: (!prefix.is_empty()).then_some(prefix),
                rest,
            },
        }
    }

    pub(crate) fn untouched(body: B) -> Self {
        Self::streamed(Bytes::new(), Box::pin(body))
    }
}

impl<B> Body for LayerBody<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match &mut self.get_mut().kind {
            Kind::Bytes(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Kind::Streamed { prefix, rest } => match prefix.take() {
                Some(prefix) => Poll::Ready(Some(Ok(Frame::data(prefix)))),
                None => rest.as_mut().poll_frame(cx).map_err(Into::into),
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Bytes(bytes) => bytes.is_none(),
            Kind::Streamed { prefix, rest } => prefix.is_none() && rest.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Bytes(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            Kind::Streamed { prefix, rest } => {
                let before = prefix.as_ref().map_or(0, |b| b.len() as u64);
                let hint = rest.size_hint();
                let mut sum = SizeHint::new();
                sum.set_lower(hint.lower() + before);
                if let Some(upper) = hint.upper() {
                    sum.set_upper(upper + before);
                }
                sum
            }
        }
    }
}
