//! An events queue and an HTTP client in memory: what the worker sends to
//! Cloudflare Queues and to webhook receivers, kept for tests to read, with
//! receivers' answers scripted.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde_json::Value;

use crate::server::webhooks::{Fetch, Fetched, Outbound, Post, Posted};

/// What answers the API calls (`fetch`) of a test: a stand-in of the API.
pub type FetchHandler = Box<dyn Fn(&Fetch) -> Result<Fetched, String> + Send>;

/// Messages queued (with their delay), POSTs made, answers to give, API
/// calls made and who answers them, pauses asked for.
#[derive(Default)]
pub struct MemoryOutbound {
    queue: Mutex<VecDeque<(Value, u32)>>,
    posts: Mutex<Vec<Post>>,
    replies: Mutex<VecDeque<Result<Posted, String>>>,
    /// When set, sending to the queue fails (a lost send).
    pub queue_down: Mutex<bool>,
    fetches: Mutex<Vec<Fetch>>,
    handler: Mutex<Option<FetchHandler>>,
    sleeps: Mutex<Vec<u64>>,
}

impl std::fmt::Debug for MemoryOutbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryOutbound").finish_non_exhaustive()
    }
}

impl MemoryOutbound {
    /// The next POST gets this status (later ones too, once the script
    /// runs out: 200).
    #[allow(clippy::unwrap_used)]
    pub fn answer(&self, status: u16) {
        self.replies.lock().unwrap().push_back(Ok(Posted {
            status,
            retry_after: None,
        }));
    }

    /// The next POST fails as a timeout or network failure does.
    #[allow(clippy::unwrap_used)]
    pub fn fail(&self, error: &str) {
        self.replies
            .lock()
            .unwrap()
            .push_back(Err(error.to_owned()));
    }

    /// Every POST made so far.
    #[allow(clippy::unwrap_used)]
    pub fn posts(&self) -> Vec<Post> {
        self.posts.lock().unwrap().clone()
    }

    /// API calls are answered by `handler` from now on.
    #[allow(clippy::unwrap_used)]
    pub fn serve_fetches(&self, handler: FetchHandler) {
        *self.handler.lock().unwrap() = Some(handler);
    }

    /// Every API call made so far.
    #[allow(clippy::unwrap_used)]
    pub fn fetches(&self) -> Vec<Fetch> {
        self.fetches.lock().unwrap().clone()
    }

    /// Every pause asked for, in milliseconds (none is waited).
    #[allow(clippy::unwrap_used)]
    pub fn sleeps(&self) -> Vec<u64> {
        self.sleeps.lock().unwrap().clone()
    }

    /// Takes the queued messages, oldest first, with their delays.
    #[allow(clippy::unwrap_used)]
    pub fn take_queued(&self) -> Vec<(Value, u32)> {
        self.queue.lock().unwrap().drain(..).collect()
    }

    /// The messages queued and not yet taken.
    #[allow(clippy::unwrap_used)]
    pub fn queued(&self) -> Vec<(Value, u32)> {
        self.queue.lock().unwrap().iter().cloned().collect()
    }
}

impl Outbound for MemoryOutbound {
    #[allow(clippy::unwrap_used)]
    async fn enqueue(&self, messages: Vec<Value>, delay_seconds: u32) -> Result<(), String> {
        if *self.queue_down.lock().unwrap() {
            return Err("queue unavailable".into());
        }
        let mut q = self.queue.lock().unwrap();
        q.extend(messages.into_iter().map(|m| (m, delay_seconds)));
        Ok(())
    }

    #[allow(clippy::unwrap_used)]
    async fn post(&self, post: Post) -> Result<Posted, String> {
        self.posts.lock().unwrap().push(post);
        self.replies
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Ok(Posted {
                status: 200,
                retry_after: None,
            }))
    }

    #[allow(clippy::unwrap_used)]
    async fn fetch(&self, fetch: Fetch) -> Result<Fetched, String> {
        self.fetches.lock().unwrap().push(fetch.clone());
        match self.handler.lock().unwrap().as_ref() {
            Some(h) => h(&fetch),
            None => Err("no stand-in answers API calls in this test".into()),
        }
    }

    #[allow(clippy::unwrap_used)]
    async fn sleep(&self, ms: u64) {
        self.sleeps.lock().unwrap().push(ms);
    }
}
