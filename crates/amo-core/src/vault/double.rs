//! A keychain double for tests: items in memory, and writes or removals refused on demand.
//! It has no item limit of its own: the vault refuses an item too large for any keychain
//! before asking it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// What the double answers with: the vault's own keychain answer, so the vault maps it as it
/// maps a real keychain's.
type Answer<T> = super::store::Answer<T>;

#[derive(Default)]
pub(crate) struct Double {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    items: BTreeMap<String, String>,
    /// Every write refused: a keychain that still answers reads (locked, read-only).
    refuse_writes: bool,
    /// Locked: an item found is not handed out, and nothing is written or removed; a search
    /// that finds nothing still says so.
    locked: bool,
    /// After letting `pass_token_writes` through, the next this many writes of token items
    /// (`tokens:…`) refused.
    refuse_token_writes: u32,
    pass_token_writes: u32,
    /// Every removal refused.
    refuse_deletes: bool,
    /// Writes of token items tried, refused ones included.
    token_writes: u32,
    /// Every write and removal that took effect, in order: `set KEY` or `delete KEY`.
    log: Vec<String>,
}

impl Double {
    /// A keychain with no limit of its own (the vault still keeps to every real one).
    pub(crate) fn new() -> Arc<Double> {
        Arc::new(Double::default())
    }

    pub(crate) fn refuse_writes(&self, on: bool) {
        self.lock().refuse_writes = on;
    }

    /// Locks or unlocks the keychain.
    pub(crate) fn set_locked(&self, on: bool) {
        self.lock().locked = on;
    }

    /// Refuses the next `times` writes of token items.
    pub(crate) fn refuse_token_writes(&self, times: u32) {
        self.refuse_token_writes_after(0, times);
    }

    /// Lets `pass` writes of token items through, then refuses the next `times`.
    pub(crate) fn refuse_token_writes_after(&self, pass: u32, times: u32) {
        let mut st = self.lock();
        st.pass_token_writes = pass;
        st.refuse_token_writes = times;
    }

    pub(crate) fn refuse_deletes(&self, on: bool) {
        self.lock().refuse_deletes = on;
    }

    /// Every item, by name.
    pub(crate) fn items(&self) -> BTreeMap<String, String> {
        self.lock().items.clone()
    }

    /// Every write and removal that took effect, in order.
    pub(crate) fn log(&self) -> Vec<String> {
        self.lock().log.clone()
    }

    /// How many writes of token items were tried.
    pub(crate) fn token_writes(&self) -> u32 {
        self.lock().token_writes
    }

    pub(super) fn get(&self, key: &str) -> Answer<String> {
        let st = self.lock();
        let item = st.items.get(key).cloned().ok_or(super::Fault::Missing)?;
        if st.locked {
            return Err(refused("the collection is locked"));
        }
        Ok(item)
    }

    pub(super) fn set(&self, key: &str, value: &str) -> Answer<()> {
        let mut st = self.lock();
        let token_item = key.starts_with("tokens:");
        if token_item {
            st.token_writes += 1;
        }
        if st.locked {
            return Err(refused("the collection is locked"));
        }
        if st.refuse_writes {
            return Err(refused("the collection is read-only"));
        }
        if token_item && st.pass_token_writes > 0 {
            st.pass_token_writes -= 1;
        } else if token_item && st.refuse_token_writes > 0 {
            st.refuse_token_writes -= 1;
            return Err(refused("the write was refused"));
        }
        st.items.insert(key.to_owned(), value.to_owned());
        st.log.push(format!("set {key}"));
        Ok(())
    }

    pub(super) fn delete(&self, key: &str) -> Answer<()> {
        let mut st = self.lock();
        if st.locked || st.refuse_deletes {
            return Err(refused("removal was refused"));
        }
        st.items.remove(key).ok_or(super::Fault::Missing)?;
        st.log.push(format!("delete {key}"));
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn refused(what: &str) -> super::Fault {
    super::Fault::Refused(format!("test keychain: {what}"))
}
