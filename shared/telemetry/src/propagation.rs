//! W3C trace context over NATS headers: a span on the edge and the span that writes the row
//! in Postgres share one trace id.

use async_nats::HeaderMap;
use opentelemetry::Context;
use opentelemetry::propagation::{Extractor, Injector};
use tracing_opentelemetry::OpenTelemetrySpanExt;

struct HeaderInjector<'a>(&'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key, value.as_str());
    }
}

struct HeaderExtractor<'a>(&'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|v| v.as_str())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(name, _)| name.as_ref()).collect()
    }
}

/// Writes `cx` into the headers as `traceparent` / `tracestate`.
pub fn inject_context(cx: &Context, headers: &mut HeaderMap) {
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(cx, &mut HeaderInjector(headers));
    });
}

/// Writes the current tracing span's context into the headers.
pub fn inject_current_span(headers: &mut HeaderMap) {
    inject_context(&tracing::Span::current().context(), headers);
}

/// Reads the remote context a publisher put in the headers (empty context when absent).
pub fn extract_context(headers: &HeaderMap) -> Context {
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&HeaderExtractor(headers))
    })
}

/// Makes `span` a child of the context carried in `headers`, when there is one.
pub fn continue_trace(span: &tracing::Span, headers: Option<&HeaderMap>) {
    if let Some(headers) = headers {
        let _ = span.set_parent(extract_context(headers));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{
        SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState,
    };
    use opentelemetry_sdk::propagation::TraceContextPropagator;

    #[test]
    fn a_context_survives_a_trip_through_nats_headers() {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        let trace_id = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap();
        let span_id = SpanId::from_hex("00f067aa0ba902b7").unwrap();
        let sent = Context::new().with_remote_span_context(SpanContext::new(
            trace_id,
            span_id,
            TraceFlags::SAMPLED,
            true,
            TraceState::default(),
        ));
        let mut headers = HeaderMap::new();
        inject_context(&sent, &mut headers);
        assert_eq!(
            headers.get("traceparent").map(|v| v.as_str()),
            Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        );
        let received = extract_context(&headers);
        assert_eq!(received.span().span_context().trace_id(), trace_id);
        assert_eq!(received.span().span_context().span_id(), span_id);
    }

    #[test]
    fn missing_headers_give_an_empty_context() {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        let cx = extract_context(&HeaderMap::new());
        assert!(!cx.span().span_context().is_valid());
    }
}
