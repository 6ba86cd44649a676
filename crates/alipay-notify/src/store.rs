//! Dropping duplicate deliveries.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::sync::{Mutex, MutexGuard};

use crate::event::Event;

/// What identifies one notification across Alipay's retries.
///
/// `notify_id` is the same for every resend of one notification; it is the key whenever the
/// notification has one. Without it, a trade notification is keyed by trade, status and refund
/// request (a partial refund repeats `TRADE_SUCCESS`, so the refund's `out_biz_no` is part of
/// the key).
///
/// ```
/// use alipay_notify::NotifyKey;
/// assert_eq!(NotifyKey::notify_id("ac05099524730693a8b330c5ecf72da9786").as_str(), "notify_id:ac05099524730693a8b330c5ecf72da9786");
/// let key = NotifyKey::trade("2024051322001", "TRADE_SUCCESS", Some("R1"));
/// assert_eq!(key.as_str(), "trade:2024051322001:TRADE_SUCCESS:R1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NotifyKey(String);

impl NotifyKey {
    /// Keyed by `notify_id`.
    pub fn notify_id(id: &str) -> Self {
        NotifyKey(format!("notify_id:{id}"))
    }

    /// Keyed by `trade_no`, `trade_status` and, for refunds, `out_biz_no`.
    pub fn trade(trade_no: &str, trade_status: &str, out_biz_no: Option<&str>) -> Self {
        match out_biz_no {
            Some(biz) => NotifyKey(format!("trade:{trade_no}:{trade_status}:{biz}")),
            None => NotifyKey(format!("trade:{trade_no}:{trade_status}")),
        }
    }

    /// The key of an event: `notify_id` when present, else trade + status (+ refund) for a
    /// trade notification; `None` for anything else without `notify_id`.
    pub fn of(event: &Event) -> Option<Self> {
        if let Some(id) = event.notify_id() {
            return Some(Self::notify_id(id));
        }
        match event {
            Event::Trade(t) => Some(Self::trade(
                &t.trade_no,
                t.trade_status.to_string().as_str(),
                t.out_biz_no.as_deref(),
            )),
            _ => None,
        }
    }

    /// The key as a string: `notify_id:<id>` or `trade:<trade_no>:<status>[:<out_biz_no>]`;
    /// store it in a unique column.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NotifyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The state of a key in a [`NotificationStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Claim {
    /// First delivery: this caller owns it. Process, then [`NotificationStore::complete`] (or
    /// [`NotificationStore::release`] if processing failed).
    New,
    /// Another delivery of the same notification is being processed right now. Reply `fail`;
    /// Alipay will resend.
    InProgress,
    /// Already processed. Reply `success` without processing again.
    Done,
}

/// Remembers which notifications were processed, so a handler can drop Alipay's resends.
///
/// The protocol is claim → process → complete:
///
/// ```
/// use alipay_notify::{Ack, Claim, MemoryStore, NotificationStore, NotifyKey};
/// # async fn handle(store: &MemoryStore, key: NotifyKey) -> Ack {
/// match store.claim(&key).await {
///     Ok(Claim::New) => {
///         let processed: Result<(), ()> = Ok(()); // update the order here
///         let _ = match processed {
///             Ok(()) => store.complete(&key).await,
///             Err(()) => store.release(&key).await,
///         };
///         Ack::from_result(&processed)
///     }
///     Ok(Claim::Done) => Ack::Success,
///     Ok(_) | Err(_) => Ack::Fail,
/// }
/// # }
/// ```
///
/// **Real stores.** Make `claim` one atomic statement on a unique key, in the database that
/// holds the orders, e.g. `INSERT INTO alipay_notifications (key, state, at) VALUES ($1,
/// 'processing', now()) ON CONFLICT (key) DO NOTHING` and read the row's state when nothing was
/// inserted; `complete` sets `state = 'done'` (best in the same transaction as the order
/// update, which then makes the whole handler exactly-once); `release` deletes the row. Treat a
/// `processing` row older than a few minutes as abandoned (the worker died). Keep rows for at
/// least 25 hours: Alipay resends for about that long.
pub trait NotificationStore: Send + Sync {
    /// The store's error (a database error, …).
    type Error: std::error::Error + Send + Sync + 'static;

    /// Atomically claims `key`: [`Claim::New`] for exactly one caller.
    fn claim(&self, key: &NotifyKey) -> impl Future<Output = Result<Claim, Self::Error>> + Send;

    /// Marks `key` processed.
    fn complete(&self, key: &NotifyKey) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// Forgets a claim whose processing failed, so a resend is processed again.
    fn release(&self, key: &NotifyKey) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

/// An in-memory [`NotificationStore`] holding at most `capacity` keys.
///
/// For tests, single-process deployments and as a first filter in front of a database. It is
/// lost on restart and not shared between processes. When full, it forgets the oldest processed
/// key first (then, if every key is in progress, the oldest claim, which is most likely
/// abandoned); a forgotten notification that Alipay resends is processed again, so choose a
/// capacity above the number of notifications of about 25 hours.
#[derive(Debug)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
    capacity: usize,
}

#[derive(Debug, Default)]
struct Inner {
    states: HashMap<NotifyKey, Claim>,
    /// Keys in claim order, oldest first (may hold keys already released).
    order: VecDeque<NotifyKey>,
}

/// [`MemoryStore`] cannot fail; this error is never returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Never {}

impl fmt::Display for Never {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {}
    }
}

impl std::error::Error for Never {}

impl MemoryStore {
    /// A store that remembers at most `capacity` keys (at least 1).
    pub fn new(capacity: usize) -> Self {
        MemoryStore {
            inner: Mutex::new(Inner::default()),
            capacity: capacity.max(1),
        }
    }

    /// Number of keys held.
    pub fn len(&self) -> usize {
        self.lock().states.len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The state of `key`, if held.
    pub fn state(&self, key: &NotifyKey) -> Option<Claim> {
        self.lock().states.get(key).copied()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The data stays consistent under a panic in another holder (each change is one
        // map operation), so a poisoned lock is still usable.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn claim_now(&self, key: &NotifyKey) -> Claim {
        let mut inner = self.lock();
        if let Some(&state) = inner.states.get(key) {
            return state;
        }
        while inner.states.len() >= self.capacity {
            inner.evict_one();
        }
        inner.states.insert(key.clone(), Claim::InProgress);
        inner.order.push_back(key.clone());
        // Drop stale entries of released keys from the front now and then.
        inner.compact(self.capacity);
        Claim::New
    }
}

impl Inner {
    fn evict_one(&mut self) {
        // Oldest processed key first.
        let done = self
            .order
            .iter()
            .position(|k| self.states.get(k) == Some(&Claim::Done));
        let index = done.or_else(|| self.order.iter().position(|k| self.states.contains_key(k)));
        match index.and_then(|i| self.order.remove(i)) {
            Some(key) => {
                self.states.remove(&key);
            }
            // `order` lost track of a key: cannot happen, but never loop forever.
            None => self.states.clear(),
        }
    }

    fn compact(&mut self, capacity: usize) {
        if self.order.len() > capacity.saturating_mul(2) {
            let states = &self.states;
            self.order.retain(|k| states.contains_key(k));
        }
    }
}

impl NotificationStore for MemoryStore {
    type Error = Never;

    fn claim(&self, key: &NotifyKey) -> impl Future<Output = Result<Claim, Never>> + Send {
        std::future::ready(Ok(self.claim_now(key)))
    }

    fn complete(&self, key: &NotifyKey) -> impl Future<Output = Result<(), Never>> + Send {
        let mut inner = self.lock();
        if !inner.states.contains_key(key) {
            while inner.states.len() >= self.capacity {
                inner.evict_one();
            }
            inner.order.push_back(key.clone());
        }
        inner.states.insert(key.clone(), Claim::Done);
        std::future::ready(Ok(()))
    }

    fn release(&self, key: &NotifyKey) -> impl Future<Output = Result<(), Never>> + Send {
        let mut inner = self.lock();
        if inner.states.get(key) == Some(&Claim::InProgress) {
            inner.states.remove(key);
        }
        std::future::ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block<F: Future>(f: F) -> F::Output {
        // The memory store's futures are ready at once.
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut f = std::pin::pin!(f);
        match f.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => panic!("the memory store never waits"),
        }
    }

    #[test]
    fn claim_complete_release() {
        let store = MemoryStore::new(10);
        let a = NotifyKey::notify_id("a");
        assert_eq!(block(store.claim(&a)), Ok(Claim::New));
        assert_eq!(block(store.claim(&a)), Ok(Claim::InProgress));
        block(store.release(&a)).unwrap();
        assert_eq!(store.state(&a), None);
        assert_eq!(block(store.claim(&a)), Ok(Claim::New));
        block(store.complete(&a)).unwrap();
        assert_eq!(block(store.claim(&a)), Ok(Claim::Done));
        // Release does not forget a processed key.
        block(store.release(&a)).unwrap();
        assert_eq!(store.state(&a), Some(Claim::Done));
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn bounded_and_evicts_processed_first() {
        let store = MemoryStore::new(3);
        let k = |i: u32| NotifyKey::notify_id(&i.to_string());
        for i in 0..3 {
            assert_eq!(block(store.claim(&k(i))), Ok(Claim::New));
        }
        block(store.complete(&k(1))).unwrap();
        // Full: the processed key 1 goes first, though 0 is older.
        assert_eq!(block(store.claim(&k(3))), Ok(Claim::New));
        assert_eq!(store.len(), 3);
        assert_eq!(store.state(&k(1)), None);
        assert_eq!(store.state(&k(0)), Some(Claim::InProgress));
        // No processed key left: the oldest claim goes.
        assert_eq!(block(store.claim(&k(4))), Ok(Claim::New));
        assert_eq!(store.state(&k(0)), None);
        assert_eq!(store.len(), 3);
        // Many claims and releases keep the bookkeeping bounded.
        for i in 100..1000 {
            assert_eq!(block(store.claim(&k(i))), Ok(Claim::New));
            block(store.release(&k(i))).unwrap();
        }
        assert!(store.lock().order.len() <= 7);
        assert_eq!(MemoryStore::new(0).capacity, 1);
    }

    #[test]
    fn keys() {
        assert_eq!(NotifyKey::notify_id("x").to_string(), "notify_id:x");
        assert_eq!(
            NotifyKey::trade("T", "TRADE_CLOSED", None).as_str(),
            "trade:T:TRADE_CLOSED"
        );
    }
}
