//! What a backend does for the journal: the facts and the writes, each in
//! its own SQL (or memory). The rules it follows are in `rules`; what the
//! journal adds over any store is in the journal itself.

use super::filter::Filter;
use super::queries::{Asking, DueSearch, QueryRecord};
use super::types::{
    Asked, Begin, Finished, JournalError, JournalHealth, JournalOptions, Published, Settlement,
    Upload,
};
use crate::payments::attempt::Attempt;
use crate::payments::model::PaymentOutcome;
use std::future::Future;
use std::pin::Pin;

/// A store's answer, later.
pub(crate) type Later<'a, T> = Pin<Box<dyn Future<Output = Result<T, JournalError>> + Send + 'a>>;

/// A place the journal keeps its attempts: a SQLite file, a PostgreSQL
/// database, or memory (for tests).
pub(crate) trait Store: Send + Sync {
    /// This process's instance id.
    fn instance(&self) -> &str;
    /// Its lease as its own clock knows it.
    fn held(&self) -> &std::sync::Arc<super::fence::Lease>;
    /// Its lease and its wait for a lock.
    fn options(&self) -> JournalOptions;
    /// Where it is: the file, or the URL without its password.
    fn location(&self) -> String;
    /// Whether it could be written at the last lease renewal.
    fn health(&self) -> JournalHealth;
    /// How long its writes waited for a lock (or a connection).
    fn lock_waits(&self) -> super::waits::LockWaits;
    /// One try at a new attempt (see `Journal::begin`): `None` while the
    /// key's attempt is in flight.
    fn try_begin<'a>(&'a self, asked: &'a Asked) -> Later<'a, Option<Begin>>;
    /// Records an attempt's outcome (see `Journal::finish`).
    fn finish<'a>(&'a self, id: i64, outcome: &'a PaymentOutcome) -> Later<'a, Finished>;
    /// Records an operator's decision (see `Journal::resolve`).
    fn resolve(&self, id: i64, settlement: Settlement) -> Later<'_, Attempt>;
    /// One attempt.
    fn get(&self, id: i64) -> Later<'_, Attempt>;
    /// The attempt under a key.
    fn by_key<'a>(&'a self, key: &'a str) -> Later<'a, Option<Attempt>>;
    /// The attempts a search finds, newest first, at most its page size.
    fn find<'a>(&'a self, filter: &'a Filter) -> Later<'a, Vec<Attempt>>;
    /// The backlog and the resolutions (see `tally`).
    fn tally(&self) -> Later<'_, super::tally::Tally>;
    /// The attempts made since `since` (Unix seconds), by connector, state
    /// and minute.
    fn per_minute(&self, since: i64) -> Later<'_, Vec<super::tally::Minute>>;
    /// The attempts of one connector the reconciler may ask about now.
    fn due<'a>(&'a self, search: &'a DueSearch) -> Later<'a, Vec<Attempt>>;
    /// Claims attempt `id` under `token` until `until` (Unix seconds);
    /// whether it has it (no live claim holds it; `scheduled`: and it is
    /// due).
    fn claim<'a>(&'a self, id: i64, token: &'a str, until: i64, scheduled: bool)
    -> Later<'a, bool>;
    /// Records a query that settled nothing, sets when to ask next and
    /// releases the claim.
    fn note_query(&self, asking: Asking) -> Later<'_, ()>;
    /// The queries about one attempt, oldest first.
    fn queries(&self, attempt: i64) -> Later<'_, Vec<QueryRecord>>;
    /// Stores a connector file for every host; its place in the order.
    fn publish(&self, upload: Upload) -> Later<'_, i64>;
    /// The files published after `seq`, in order.
    fn published_after(&self, seq: i64) -> Later<'_, Vec<Published>>;
    /// Takes no new attempt from now on.
    fn refuse_new(&self);
    /// Ends this instance: its attempts in flight become `unknown`, its
    /// lease is given up.
    fn close(&self) -> Later<'_, ()>;
}

/// `impl Store` for a backend whose inherent methods have the trait's
/// names; `location` and `close` as given.
macro_rules! store_by_its_methods {
    ($ty:ty, location: |$l:ident| $location:expr, close: |$c:ident| $close:expr) => {
        impl $crate::payments::journal::store::Store for $ty {
            fn instance(&self) -> &str {
                <$ty>::instance(self)
            }
            fn held(&self) -> &std::sync::Arc<$crate::payments::journal::fence::Lease> {
                &self.inner.held
            }
            fn options(&self) -> $crate::payments::journal::types::JournalOptions {
                <$ty>::options(self)
            }
            fn location(&self) -> String {
                let $l = self;
                $location
            }
            fn health(&self) -> $crate::payments::journal::types::JournalHealth {
                <$ty>::health(self)
            }
            fn lock_waits(&self) -> $crate::payments::journal::waits::LockWaits {
                self.inner.waits.clone()
            }
            fn try_begin<'a>(
                &'a self,
                asked: &'a $crate::payments::journal::types::Asked,
            ) -> $crate::payments::journal::store::Later<'a, Option<$crate::payments::journal::types::Begin>> {
                Box::pin(<$ty>::try_begin(self, asked))
            }
            fn finish<'a>(&'a self, id: i64, outcome: &'a $crate::payments::model::PaymentOutcome) -> $crate::payments::journal::store::Later<'a, $crate::payments::journal::types::Finished> {
                Box::pin(<$ty>::finish(self, id, outcome))
            }
            fn resolve(
                &self,
                id: i64,
                settlement: $crate::payments::journal::types::Settlement,
            ) -> $crate::payments::journal::store::Later<'_, $crate::payments::attempt::Attempt> {
                Box::pin(<$ty>::resolve(self, id, settlement))
            }
            fn get(&self, id: i64) -> $crate::payments::journal::store::Later<'_, $crate::payments::attempt::Attempt> {
                Box::pin(<$ty>::get(self, id))
            }
            fn by_key<'a>(&'a self, key: &'a str) -> $crate::payments::journal::store::Later<'a, Option<$crate::payments::attempt::Attempt>> {
                Box::pin(<$ty>::by_key(self, key))
            }
            fn find<'a>(&'a self, filter: &'a $crate::payments::journal::filter::Filter) -> $crate::payments::journal::store::Later<'a, Vec<$crate::payments::attempt::Attempt>> {
                Box::pin(<$ty>::find(self, filter))
            }
            fn tally(&self) -> $crate::payments::journal::store::Later<'_, $crate::payments::journal::tally::Tally> {
                Box::pin(<$ty>::tally(self))
            }
            fn per_minute(&self, since: i64) -> $crate::payments::journal::store::Later<'_, Vec<$crate::payments::journal::tally::Minute>> {
                Box::pin(<$ty>::per_minute(self, since))
            }
            fn due<'a>(&'a self, search: &'a $crate::payments::journal::queries::DueSearch) -> $crate::payments::journal::store::Later<'a, Vec<$crate::payments::attempt::Attempt>> {
                Box::pin(<$ty>::due(self, search))
            }
            fn claim<'a>(&'a self, id: i64, token: &'a str, until: i64, scheduled: bool) -> $crate::payments::journal::store::Later<'a, bool> {
                Box::pin(<$ty>::claim(self, id, token, until, scheduled))
            }
            fn note_query(&self, asking: $crate::payments::journal::queries::Asking) -> $crate::payments::journal::store::Later<'_, ()> {
                Box::pin(<$ty>::note_query(self, asking))
            }
            fn queries(&self, attempt: i64) -> $crate::payments::journal::store::Later<'_, Vec<$crate::payments::journal::queries::QueryRecord>> {
                Box::pin(<$ty>::queries(self, attempt))
            }
            fn publish(
                &self,
                upload: $crate::payments::journal::types::Upload,
            ) -> $crate::payments::journal::store::Later<'_, i64> {
                Box::pin(<$ty>::publish(self, upload))
            }
            fn published_after(&self, seq: i64) -> $crate::payments::journal::store::Later<'_, Vec<$crate::payments::journal::types::Published>> {
                Box::pin(<$ty>::published_after(self, seq))
            }
            fn refuse_new(&self) {
                <$ty>::refuse_new(self)
            }
            fn close(&self) -> $crate::payments::journal::store::Later<'_, ()> {
                let $c = self;
                Box::pin(async move { $close })
            }
        }
    };
}
pub(crate) use store_by_its_methods;
