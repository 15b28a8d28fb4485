//! The WIT adapters: the current contract's and the frozen 0.1.0's `send`,
//! each turning its request into an [`Outgoing`] and the answer or error
//! back into its own types.

use super::request::{Outgoing, legacy_method, method};
use super::{Http, SendError};
use crate::contract::parts::Piece;
use crate::contract::{convert, http as wit, legacy};
use wasmtime::component::ResourceTable;

impl wit::Host for Http<'_> {
    async fn send(
        &mut self,
        request: wit::Request,
    ) -> wasmtime::Result<Result<wit::Response, wit::HttpError>> {
        // The table is not `Sync`: only the pieces, which borrow sealed
        // values, live across the send.
        let outgoing = {
            let table: &ResourceTable = self.table;
            Outgoing {
                method: method(request.method),
                url: convert::pieces(table, &request.url)?,
                headers: request
                    .headers
                    .iter()
                    .map(|h| Ok((h.name.as_str(), convert::pieces(table, &h.value)?)))
                    .collect::<wasmtime::Result<_>>()?,
                body: convert::pieces(table, &request.body)?,
                timeout_ms: request.timeout_ms,
            }
        };
        let result = self.ctx.perform(outgoing).await;
        Ok(result
            .map(|r| wit::Response {
                status: r.status,
                headers: r.headers,
                body: r.body,
            })
            .map_err(|e| match e {
                SendError::Denied(m) => wit::HttpError::Denied(m),
                SendError::Timeout(m) => wit::HttpError::Timeout(m),
                SendError::Connect(m) => wit::HttpError::Connect(m),
                SendError::Broken(m) => wit::HttpError::Broken(m),
                SendError::TooLarge(m) => wit::HttpError::TooLarge(m),
                SendError::Invalid(m) => wit::HttpError::Invalid(m),
            }))
    }
}

impl legacy::http::Host for Http<'_> {
    async fn send(
        &mut self,
        request: legacy::http::Request,
    ) -> wasmtime::Result<Result<legacy::http::Response, legacy::http::HttpError>> {
        let outgoing = Outgoing {
            method: legacy_method(request.method),
            url: vec![Piece::Literal(request.url.as_bytes())],
            headers: request
                .headers
                .iter()
                .map(|h| (h.name.as_str(), legacy::convert::pieces(&h.value)))
                .collect(),
            body: legacy::convert::pieces(&request.body),
            timeout_ms: request.timeout_ms,
        };
        let result = self.ctx.perform(outgoing).await;
        Ok(result
            .map(|r| legacy::http::Response {
                status: r.status,
                headers: r.headers,
                body: r.body,
            })
            .map_err(|e| match e {
                SendError::Denied(m) => legacy::http::HttpError::Denied(m),
                SendError::Timeout(m) => legacy::http::HttpError::Timeout(m),
                SendError::Connect(m) => legacy::http::HttpError::Connect(m),
                SendError::Broken(m) => legacy::http::HttpError::Broken(m),
                SendError::TooLarge(m) => legacy::http::HttpError::TooLarge(m),
                SendError::Invalid(m) => legacy::http::HttpError::Invalid(m),
            }))
    }
}
